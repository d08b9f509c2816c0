"""Local relation layer (LR-Net).

Paper: "Local Relation Networks for Image Recognition", Han Hu, Zheng Zhang, Zhenda Xie, Stephen Lin, ICCV 2019,
https://arxiv.org/abs/1904.11491. The authors' code is a CUDA kernel (``ops/local_relation``) on the ``LR-Net``
branch of https://github.com/microsoft/Swin-Transformer ("LR-Net V2"); it takes query, key, value and the position
weights as inputs, with dot-product similarity as its default and out-of-image neighbours masked out.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input

COMPOSABILITY = ("multiply", "squared_difference", "absolute_difference")


@fx.wrap
def _outside_window(x: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """``(k*k, H*W)`` mask: which window positions of each pixel fall outside the image."""
    ones = torch.ones(1, 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
    inside = F.unfold(ones, kernel_size, padding=kernel_size // 2)  # (1, k*k, H*W)
    return inside[0] == 0


@fx.wrap
def _aggregate(x: torch.Tensor, omega: torch.Tensor, groups: int, kernel_size: int) -> torch.Tensor:
    """``y_p' = sum_p omega(p', p) x_p`` over each ``k x k`` window, the ``m`` channels of a group sharing ``omega``.

    One shifted copy of ``x`` per window position (no ``k*k``-fold unfold of ``x``); one node in fx graphs.
    """
    n, c, h, w = x.shape
    k = kernel_size
    omega = omega.reshape(n, groups, 1, k * k, h, w)  # (N, G, 1, k*k, H, W)
    padded = F.pad(x, (k // 2,) * 4).reshape(n, groups, c // groups, h + k - 1, w + k - 1)
    y = padded[:, :, :, :h, :w] * omega[:, :, :, 0]
    for pos in range(1, k * k):
        i, j = divmod(pos, k)
        y = y + padded[:, :, :, i : i + h, j : j + w] * omega[:, :, :, pos]
    return y.reshape(n, c, h, w)  # (N, G, m, H, W) -> (N, C, H, W)


@register("local-relation", kind="attention", inputs=(64, 14, 14), channels=64)
class LocalRelation(nn.Module):
    """Local relation layer: aggregation weights from the relation of each pixel to its ``k x k`` neighbours.

    For output pixel ``p'`` and neighbour ``p`` in its ``k x k`` window ``Omega(p')``:
    ``omega(p', p) = softmax_p(Phi(q_p', k_p) + g(p - p'))`` and ``y_p' = sum_p omega(p', p) x_p``.
    The query ``q = f_q(x)`` and key ``k = f_k(x)`` are ``1 x 1`` channel transformations to ``C / m``
    channels, one scalar per aggregation group; ``Phi`` is the appearance composability (scalar
    multiplication by default; squared or absolute difference as in the paper's ablation); the geometry prior
    ``g`` is a small network (``1 x 1`` conv, ReLU, ``1 x 1`` conv) applied to the ``(dy, dx)`` offset of each
    window position, giving one logit per group and position. The ``m`` channels of a group share one set of
    weights (channel sharing, like a grouped convolution); the values are the input features themselves.

    Args:
        channels: input and output channels ``C`` (divisible by ``channels_per_group``).
        kernel_size: window size ``k`` (odd; paper's default 7).
        channels_per_group: ``m``, channels that share one set of aggregation weights (paper's default 8).
        composability: ``"multiply"`` (default), ``"squared_difference"`` (``-(q - k)^2``) or
            ``"absolute_difference"`` (``-|q - k|``).
        geometry_hidden: hidden channels of the geometry-prior network (default ``max(1, C / m / 2)``).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> lr = cvattn.create("local-relation", channels=64)
        >>> lr(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The paper does not state the hidden width of the geometry-prior network, the scale of the offsets fed to
        it (raw integer offsets here) or whether the key and query transforms carry a bias (none here). Window
        positions outside the image are excluded from the softmax, as the official kernel does with a logit of
        ``-100``.

    Reference:
        Hu, Zhang, Xie, Lin. Local Relation Networks for Image Recognition. ICCV 2019.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        channels_per_group: int = 8,
        composability: str = "multiply",
        geometry_hidden: int | None = None,
    ) -> None:
        super().__init__()
        if channels % channels_per_group:
            raise ValueError(
                f"channels ({channels}) must be divisible by channels_per_group ({channels_per_group})"
            )
        if kernel_size % 2 == 0 or kernel_size < 1:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}")
        if composability not in COMPOSABILITY:
            raise ValueError(f"composability must be one of {COMPOSABILITY}, got {composability!r}")
        self.channels = channels
        self.kernel_size = kernel_size
        self.groups = groups = channels // channels_per_group
        self.composability = composability
        hidden = geometry_hidden if geometry_hidden is not None else max(1, groups // 2)
        self.query = nn.Conv2d(channels, groups, 1, bias=False)
        self.key = nn.Conv2d(channels, groups, 1, bias=False)
        self.geometry = nn.Sequential(
            nn.Conv2d(2, hidden, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, groups, 1)
        )
        radius = kernel_size // 2
        offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
        dy, dx = torch.meshgrid(offsets, offsets, indexing="ij")
        self.register_buffer("offsets", torch.stack([dy, dx])[None], persistent=False)  # (1, 2, k, k)

    def geometry_prior(self) -> torch.Tensor:
        """``g(p - p')`` for every group and window position: ``(G, k*k)`` (row-major window order)."""
        return self.geometry(self.offsets).reshape(self.groups, -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        g, k = self.groups, self.kernel_size
        q = self.query(x).reshape(n, g, 1, h * w)  # (N, G, 1, HW)
        key = F.unfold(self.key(x), k, padding=k // 2).reshape(n, g, k * k, h * w)  # (N, G, k*k, HW)
        if self.composability == "multiply":
            appearance = q * key
        elif self.composability == "squared_difference":
            appearance = -((q - key) ** 2)
        else:
            appearance = -(q - key).abs()
        logits = appearance + self.geometry_prior().to(x.dtype)[None, :, :, None]
        logits = logits.masked_fill(_outside_window(x, k), float("-inf"))
        omega = logits.softmax(dim=2)  # (N, G, k*k, HW)
        return _aggregate(x, omega, g, k)  # y_p' = sum_p omega(p', p) x_p
