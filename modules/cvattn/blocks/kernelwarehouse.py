"""KernelWarehouse: a dynamic convolution that assembles its kernel from a warehouse of small kernel cells.

Paper: "KernelWarehouse: Rethinking the Design of Dynamic Convolution", Chao Li, Anbang Yao, ICML 2024,
https://arxiv.org/abs/2406.07879. Official code:
https://github.com/OSVAI/KernelWarehouse (``modules/kernel_warehouse.py``: ``Warehouse_Manager``, ``KWConv2d``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, check_divisible, check_input


def _initial_assignment(num_mixtures: int, num_cells: int, cell_num_ratio: float) -> list[int]:
    """The official temperature initialisation: the cell (``num_cells`` = the zero cell) each mixture starts
    from, one distinct cell per mixture for ``cell_num_ratio >= 1``, otherwise a distinct cell for one mixture
    in every ``1 / cell_num_ratio`` (on a diagonal pattern) and the zero cell for the others."""
    cells, start = [], 0
    if cell_num_ratio >= 1:
        for _ in range(num_mixtures):
            cells.append(start)
            start += int(cell_num_ratio)
        return cells
    per_cell = int(1.0 / cell_num_ratio)
    for i in range(num_mixtures):
        if i % per_cell == (i // per_cell) % per_cell:
            cells.append(start)
            start += 1
        else:
            cells.append(num_cells)
    if start != num_cells:
        raise ValueError(
            f"expected the temperature initialisation to use all {num_cells} cells, it uses {start}: choose "
            "cell ratios for which the kernel splits into a multiple of 1 / cell_num_ratio cells per position"
        )
    return cells


class WarehouseAttention(nn.Module):
    """Attentions of each of the kernel's ``m`` mixtures over the ``n`` warehouse cells and one zero cell:
    ``GAP -> FC -> BN -> ReLU -> FC``, normalised by the sum of absolute values, blended with the
    initial one-hot assignment by ``temperature``; the zero cell's attention is dropped."""

    def __init__(
        self, in_channels: int, hidden: int, num_mixtures: int, num_cells: int, cell_num_ratio: float
    ) -> None:
        super().__init__()
        self.num_mixtures, self.num_cells = num_mixtures, num_cells
        self.temperature = 0.0
        self.fc1 = nn.Conv2d(in_channels, hidden, 1, bias=False)
        self.norm = BatchNormAnyBatch2d(hidden)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, num_mixtures * (num_cells + 1), 1)
        assignment = torch.zeros(num_mixtures, num_cells + 1)
        assignment[
            torch.arange(num_mixtures), _initial_assignment(num_mixtures, num_cells, cell_num_ratio)
        ] = 1
        self.register_buffer("assignment", assignment, persistent=False)
        for m in (self.fc1, self.fc2):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.act(self.norm(self.fc1(x.mean((2, 3), keepdim=True))))  # (N, hidden, 1, 1)
        logits = self.fc2(z).reshape(-1, self.num_mixtures, self.num_cells + 1)  # (N, m, n + 1)
        a = logits / (logits.abs().sum(-1, keepdim=True) + 1e-3)
        t = self.temperature
        a = (1.0 - t) * a + t * self.assignment
        return a[..., :-1]  # (N, m, n)


@register(
    "kernelwarehouse",
    kind="block",
    inputs=(32, 16, 16),
    in_channels=32,
    out_channels=32,
    kernel_size=3,
    padding=1,
)
class KernelWarehouseConv2d(nn.Module):
    """KernelWarehouse convolution: the kernel is split into ``m`` cells, each a mixture of ``n`` shared cells.

    The ``C_out x C_in/g x k x k`` kernel is divided into ``m`` local mixtures of shape
    ``c_out x c_in x 1 x 1`` (``spatial_partition``) or ``c_out x c_in x k x k``; a warehouse of ``n`` cells of
    that shape holds the parameters, and an attention module gives every mixture its own weights over the
    cells (plus a zero cell), normalised by their absolute sum instead of a softmax so that they may be
    negative: ``W_j = sum_i a_ji E_i``. With ``n = m`` (``cell_num_ratio = 1``) the layer has the parameters
    of a static convolution; ``cell_num_ratio = 4`` gives "KW (4x)", ratios below one fewer parameters than
    the static kernel. A ``temperature`` ``t`` blends the attentions with a one-hot start assignment,
    ``(1 - t) a + t b``; the paper anneals ``t`` from 1 to 0 early in training. The per-example kernels run as
    one grouped convolution over the batch.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size ``k``.
        stride: stride.
        padding: padding.
        dilation: dilation.
        groups: groups.
        bias: add a learned bias.
        reduction: the attention's hidden width is ``max(C_in // reduction, 16)`` (16).
        cell_num_ratio: warehouse cells per mixture, ``n = max(int(m * cell_num_ratio), 1)`` (1).
        cell_inplane_ratio: cell input channels over the kernel's, ``c_in = C_in/g * ratio`` (1).
        cell_outplane_ratio: cell output channels over the kernel's, ``c_out = C_out * ratio`` (1).
        spatial_partition: split the kernel into ``1 x 1`` cells along its positions (True).
        temperature: the blending ``t`` (0); set ``attention.temperature`` to anneal it.

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("kernelwarehouse", in_channels=32, out_channels=64, cell_num_ratio=4)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        Self-contained: the layer holds its own warehouse, where the paper (and ``Warehouse_Manager``) shares
        one warehouse among the layers of a stage, whose cell shape is the greatest common divisor of their
        channels; a layer here equals the official one whose warehouse serves it alone. The non-local basis
        mapping (``nonlocal_basis_ratio < 1``), which compresses the attention over other layers' cells, has
        nothing to compress here and is left out. ``reduction`` is the ratio 16 where the official code takes
        its inverse (0.0625). A batch of one in training mode normalises with the running statistics.

    Reference:
        Li, Yao. KernelWarehouse: Rethinking the Design of Dynamic Convolution. ICML 2024.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = False,
        reduction: int = 16,
        cell_num_ratio: float = 1.0,
        cell_inplane_ratio: float = 1.0,
        cell_outplane_ratio: float = 1.0,
        spatial_partition: bool = True,
        temperature: float = 0.0,
    ) -> None:
        super().__init__()
        check_divisible(in_channels, out_channels, groups)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        c_in = max(int(in_channels // groups * cell_inplane_ratio), 1)
        c_out = max(int(out_channels * cell_outplane_ratio), 1)
        k_cell = 1 if spatial_partition else kernel_size
        if (in_channels // groups) % c_in or out_channels % c_out:
            raise ValueError(
                f"expected cells of {c_out} x {c_in} channels to tile the {out_channels} x {in_channels // groups} kernel"
            )
        # mixtures, in the official order: positions, then output, then input channel blocks
        self.split = ((kernel_size // k_cell) ** 2, out_channels // c_out, in_channels // groups // c_in)
        self.cell_shape = (c_out, c_in, k_cell, k_cell)
        num_mixtures = math.prod(self.split)
        num_cells = max(int(num_mixtures * cell_num_ratio), 1)
        self.warehouse = nn.Parameter(torch.empty(num_cells, *self.cell_shape))
        nn.init.kaiming_normal_(
            self.warehouse.view(-1, c_in, k_cell, k_cell), mode="fan_out", nonlinearity="relu"
        )
        self.attention = WarehouseAttention(
            in_channels, max(in_channels // reduction, 16), num_mixtures, num_cells, cell_num_ratio
        )
        self.attention.temperature = temperature
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        n, k = x.shape[0], self.kernel_size
        a = self.attention(x)  # (N, m, cells)
        w = a.reshape(-1, a.shape[2]) @ self.warehouse.flatten(1)  # the mixtures: (N*m, c_out*c_in*kc*kc)
        # (N, positions, out blocks, in blocks, c_out, c_in, kc, kc) -> (N, out blocks, c_out, in blocks, c_in, positions, kc, kc)
        w = w.reshape(n, *self.split, *self.cell_shape).permute(0, 2, 4, 3, 5, 1, 6, 7)
        w = w.reshape(-1, self.in_channels // self.groups, k, k)  # (N*C_out, C_in/g, k, k)
        y = F.conv2d(
            x.reshape(1, -1, x.shape[2], x.shape[3]),
            w,
            None,
            self.stride,
            self.padding,
            self.dilation,
            self.groups * n,
        )
        y = y.reshape(n, self.out_channels, y.shape[2], y.shape[3])
        return y if self.bias is None else y + self.bias.reshape(1, -1, 1, 1)
