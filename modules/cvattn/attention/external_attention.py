"""External attention (EANet).

Paper: "Beyond Self-Attention: External Attention Using Two Linear Layers for Visual Tasks", Meng-Hao Guo,
Zheng-Ning Liu, Tai-Jiang Mu, Shi-Min Hu, TPAMI 2022, https://arxiv.org/abs/2105.02358. Official code:
https://github.com/MenghaoGuo/EANet (``model_torch.py``, ``External_attention``).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, get_layer, match_memory_format
from ..tokens import from_tokens, to_tokens


@register("external-attention", kind="attention", inputs=(64, 14, 14), channels=64)
class ExternalAttention(nn.Module):
    """External attention: every position attends to a small learnt memory shared by the whole data set.

    The input is projected by a 1x1 convolution to features ``F`` (``HW x C``). Two external memories,
    ``M_k`` and ``M_v`` (``S x C`` each, linear layers without bias), replace the keys and values of
    self-attention: ``A = Norm(F M_k^T)`` and ``F_out = A M_v``. ``Norm`` is the double normalisation:
    a softmax over the ``HW`` positions (one distribution per memory unit), then an l1 normalisation over
    the ``S`` memory units, ``a_ij = a~_ij / (eps + sum_j a~_ij)``. The block ends as the official one:
    1x1 convolution, BatchNorm, residual sum with the input and ReLU. Memory grows with ``H*W*S``: linear
    in the number of positions.

    Args:
        channels: input and output channels ``C``.
        memory_units: the memory size ``S`` (official: 64).
        eps: the constant in the l1 normalisation's denominator (official: 1e-9).
        norm_layer: normalisation after the output 1x1 convolution (official: BatchNorm2d, momentum 0.1).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ea = cvattn.create("external-attention", channels=64)
        >>> ea(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official code points ``linear_1``'s weight at the transposed storage of ``linear_0``'s, so the
        two memories start as transposes of each other (and share storage until the module is moved or
        cast, which copies each parameter); here ``M_k`` and ``M_v`` are independent parameters, as in the
        paper, initialised the same way (``M_k = M_v^T`` at start).
        The memories are ``nn.Linear`` on ``(N, HW, C)`` tokens instead of ``nn.Conv1d`` on ``(N, C, HW)``.

    Reference:
        Guo, Liu, Mu, Hu. Beyond Self-Attention: External Attention Using Two Linear Layers for Visual
        Tasks. TPAMI 2022.
    """

    def __init__(
        self,
        channels: int,
        memory_units: int = 64,
        eps: float = 1e-9,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if channels < 1 or memory_units < 1:
            raise ValueError(f"channels ({channels}) and memory_units ({memory_units}) must be positive")
        self.channels, self.memory_units, self.eps = channels, memory_units, eps
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.memory_key = nn.Linear(channels, memory_units, bias=False)  # M_k
        self.memory_value = nn.Linear(memory_units, channels, bias=False)  # M_v
        self.proj_out = nn.Conv2d(channels, channels, 1, bias=False)
        self.norm = get_layer(norm_layer)(channels)
        self.act = nn.ReLU()
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """The official initialisation: normal weights of std ``sqrt(2 / fan_out)``, ``M_k = M_v^T``."""
        with torch.no_grad():
            for conv in (self.proj_in, self.proj_out):
                conv.weight.normal_(0, math.sqrt(2.0 / self.channels))
            self.memory_value.weight.normal_(0, math.sqrt(2.0 / self.channels))
            self.memory_key.weight.copy_(self.memory_value.weight.t())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        f = to_tokens(self.proj_in(x))  # (N, HW, C)
        attn = self.memory_key(f).softmax(dim=1)  # (N, HW, S): softmax over the positions
        attn = attn / (self.eps + attn.sum(dim=2, keepdim=True))  # l1 over the memory units
        out = from_tokens(self.memory_value(attn), x.shape[-2:])  # (N, C, H, W)
        out = self.act(self.norm(self.proj_out(out)) + x)
        return match_memory_format(out, x)
