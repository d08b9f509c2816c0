"""Hamburger: global context from a low-rank matrix decomposition (NMF ham).

Paper: "Is Attention Better Than Matrix Decomposition?", Zhengyang Geng, Meng-Hao Guo, Hongxu Chen, Xia Li,
Ke Wei, Zhouchen Lin, ICLR 2021, https://openreview.net/forum?id=1FvkSpWosOl. Official code:
https://github.com/Gsunshine/Enjoy-Hamburger (``seg/HamNet/hamburger/burger.py``, ``HamburgerV2``;
``hamburger/ham.py``, ``NMF2D``; defaults in ``seg/HamNet/settings.py``).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import LayerType, check_input, get_layer, match_memory_format

_CHEESE_NORM = partial(nn.BatchNorm2d, momentum=3e-4)  # settings.BN_MOM of the official code


def _seeded_bases(splits: int, d: int, r: int, seed: int) -> torch.Tensor:
    """The ``(splits, d, r)`` non-negative unit-column bases of evaluation mode, drawn on the CPU in float32
    from a generator seeded with ``seed`` (so they are the same on every device)."""
    gen = torch.Generator().manual_seed(seed)
    return F.normalize(torch.rand((splits, d, r), generator=gen), dim=1)


@fx.wrap
def nmf_coef_step(x: torch.Tensor, bases: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """Multiplicative NMF update of the coefficients, ``C <- C * (X^T B) / (C B^T B)``.

    A leaf of ``torch.fx`` traces, so that the diagram shows one box per update."""
    return coef * torch.bmm(x.transpose(1, 2), bases) / (coef.bmm(bases.transpose(1, 2).bmm(bases)) + 1e-6)


@fx.wrap
def nmf_bases_step(x: torch.Tensor, bases: torch.Tensor, coef: torch.Tensor) -> torch.Tensor:
    """Multiplicative NMF update of the bases, ``B <- B * (X C) / (B C^T C)`` (a leaf of ``torch.fx`` traces)."""
    return bases * torch.bmm(x, coef) / (bases.bmm(coef.transpose(1, 2).bmm(coef)) + 1e-6)


@register("hamburger", kind="attention", inputs=(64, 14, 14), channels=64, md_channels=64)
class Hamburger(nn.Module):
    """Hamburger with the NMF ham: the map is rebuilt from a rank-``R`` non-negative factorisation.

    The lower bread (1x1 convolution and ReLU, so the input is non-negative) gives ``X`` with ``D``
    channels, seen as ``S`` matrices of size ``(D/S) x HW``. The ham factorises each as ``X ~ B C^T`` by
    non-negative matrix factorisation: from random unit bases ``B`` and ``C = softmax(X^T B)``, ``K``
    multiplicative updates ``C <- C * (X^T B) / (C B^T B)`` and ``B <- B * (X C) / (B C^T C)`` (``+1e-6``
    in the denominators), then one more update of ``C``; the output is ``B C^T``. Gradients follow the
    one-step rule of the paper: the ``K`` iterations are not differentiated, only the final update of
    ``C`` and the product. The cheese (1x1 conv, BN, ReLU) and the upper bread (1x1 conv) map back to
    ``C`` channels; output ``ReLU(x + upper(cheese(ham(lower(x)))))``. Memory grows with ``H*W*R``
    (``C`` is ``HW x R`` per split).

    Args:
        channels: input and output channels.
        md_channels: channels ``D`` of the bread and of the factorised matrices (official: 512).
        rank: rank ``R`` of the factorisation (official: 64).
        num_splits: ``S``, the number of matrices the ``D`` channels are split into (official: 1).
        train_steps: ``K`` in training mode (official: 6).
        eval_steps: ``K`` in evaluation mode (official settings: 6).
        eval_seed: seed of the random initial bases of evaluation mode, so that inference is
            deterministic and the same for a sample whatever its batch; ``None`` draws them from the global
            generator in every mode, as the official code (default 0, see Deviations). It can be changed
            on a built module (the bases are redrawn).
        norm_layer: the cheese's normalisation (official: BatchNorm2d with momentum 3e-4).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ham = cvattn.create("hamburger", channels=64, md_channels=64)
        >>> ham(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        In evaluation mode the initial bases are fixed: drawn once from a generator seeded with
        ``eval_seed`` (one ``(D/S) x R`` matrix per split, kept as the non-persistent buffer
        ``eval_bases``) and shared by every sample of a batch (official: fresh random bases at every call
        in every mode, so its inference is not deterministic and a sample's output depends on what else is
        in the batch). A fixed buffer, unlike a generator made in ``forward``, also lets
        ``torch.compile(fullgraph=True)`` capture the module. With
        ``eval_seed=None`` the module follows the official code. Training mode draws them from the global
        generator, as the official code. The non-differentiated iterations run on ``x.detach()`` instead
        of under ``torch.no_grad()`` (same values and gradients; ``torch.fx`` can trace it).

    Reference:
        Geng, Guo, Chen, Li, Wei, Lin. Is Attention Better Than Matrix Decomposition? ICLR 2021.
    """

    def __init__(
        self,
        channels: int,
        md_channels: int = 512,
        rank: int = 64,
        num_splits: int = 1,
        train_steps: int = 6,
        eval_steps: int = 6,
        eval_seed: int | None = 0,
        norm_layer: LayerType = _CHEESE_NORM,
    ) -> None:
        super().__init__()
        if num_splits < 1 or md_channels % num_splits:
            raise ValueError(f"md_channels ({md_channels}) must be divisible by num_splits ({num_splits})")
        if rank < 1 or train_steps < 0 or eval_steps < 0:
            raise ValueError(f"rank ({rank}) must be positive and the step counts non-negative")
        self.channels, self.md_channels, self.rank, self.num_splits = channels, md_channels, rank, num_splits
        self.train_steps, self.eval_steps = train_steps, eval_steps
        self.eval_seed = eval_seed  # draws the buffer eval_bases
        self.lower_bread = nn.Sequential(nn.Conv2d(channels, md_channels, 1), nn.ReLU(inplace=True))
        self.cheese = nn.Sequential(
            nn.Conv2d(md_channels, md_channels, 1, bias=False),
            get_layer(norm_layer)(md_channels),
            nn.ReLU(inplace=True),
        )
        self.upper_bread = nn.Conv2d(md_channels, channels, 1, bias=False)
        for m in self.modules():  # the official initialisation: N(0, 2 / fan_out) weights
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight, 0, (2.0 / m.out_channels) ** 0.5)

    @property
    def eval_seed(self) -> int | None:
        """Seed of the fixed initial bases of evaluation mode (``None``: random at every call)."""
        return self._eval_seed

    @eval_seed.setter
    def eval_seed(self, seed: int | None) -> None:
        self._eval_seed = seed
        s = self.num_splits
        bases = torch.empty(0) if seed is None else _seeded_bases(s, self.md_channels // s, self.rank, seed)
        old = self._buffers.get("eval_bases")
        if old is not None:  # keep the module's device and floating dtype
            bases = bases.to(device=old.device, dtype=old.dtype)
        self.register_buffer("eval_bases", bases, persistent=False)

    def ham(self, x: torch.Tensor) -> torch.Tensor:
        """NMF of the ``S`` matrices ``(D/S) x HW``, rebuilt as ``B C^T``; one-step gradient."""
        n, _, h, w = x.shape
        s, r = self.num_splits, self.rank
        x = x.reshape(n * s, self.md_channels // s, h * w)  # (N S, D/S, HW)
        if (
            self.training or self.eval_seed is None
        ):  # fresh random bases, drawn in float32 as the official code
            bases = F.normalize(torch.rand((n * s, self.md_channels // s, r), device=x.device), dim=1)
            bases = bases.to(x.dtype)  # (N S, D/S, R)
        else:  # the fixed bases of split j for every sample: index n_i S + j
            bases = self.eval_bases.to(x.dtype).repeat(n, 1, 1)
        xd = x.detach()  # the iterations are not differentiated
        coef = torch.softmax(torch.bmm(xd.transpose(1, 2), bases), dim=-1)  # (N S, HW, R)
        for _ in range(self.train_steps if self.training else self.eval_steps):
            coef = nmf_coef_step(xd, bases, coef)
            bases = nmf_bases_step(xd, bases, coef)
        coef = nmf_coef_step(x, bases, coef)  # the one differentiated step
        return torch.bmm(bases, coef.transpose(1, 2)).reshape(n, self.md_channels, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y = self.upper_bread(self.cheese(self.ham(self.lower_bread(x))))
        return match_memory_format(F.relu(x + y), x)
