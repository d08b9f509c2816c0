"""Trainable attention estimator of "Learn To Pay Attention".

Paper: "Learn To Pay Attention", Saumya Jetley, Nicholas A. Lord, Namhoon Lee, Philip H. S. Torr, ICLR 2018,
https://openreview.net/forum?id=HyzbhfWRW (arXiv: https://arxiv.org/abs/1804.02391).
Official code (Lua Torch): https://github.com/saumya-jetley/cd_ICLR18_LearnToPayAttention
(``VGGNet/models/models_CIFARS/*/1_vgg_atten.lua``: ``2_level_atten_1global`` for the parametrised
compatibility, ``2_level_atten_1globalDP`` for the dot product, ``3_level_atten_1global_upprojecting`` for
local features projected to the global width).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input
from ..tokens import to_tokens

COMPATIBILITIES = ("pc", "dp")


@register(
    "learn-to-pay-attention",
    kind="fusion",
    inputs=((64, 14, 14), (64,)),
    channels=64,
    global_channels=64,
)
class LearnToPayAttention(nn.Module):
    """Attention estimator: a global image descriptor scores local features, whose convex mix is returned.

    With local features ``l_i`` (one per position ``i`` of an ``H x W`` map, projected by a 1x1 convolution
    to the width of ``g`` when the widths differ) and the global descriptor ``g``, the compatibility is
    ``c_i = <u, l_i + g>`` (parametrised, ``pc``, with a learnt ``u``) or ``c_i = <l_i, g>`` (dot product,
    ``dp``); the attention is ``a = softmax_i(c)`` over all ``H*W`` positions and the output is the
    attended descriptor ``g_a = sum_i a_i l_i``, which replaces ``g`` for classification. Note that in
    ``pc`` mode ``<u, g>`` is the same for every position, so the weights depend on ``l`` alone. Memory
    grows with ``H*W * C_g`` (one score per position).

    Args:
        channels: channels ``C`` of the local feature map ``l``.
        global_channels: width ``C_g`` of the global descriptor ``g`` (official: 512, equal to ``C`` except
            in the up-projecting models); default ``C``.
        compatibility: ``"pc"`` (parametrised, the paper's main models) or ``"dp"`` (dot product).

    Shape:
        - Input: ``x`` (the local features ``l``): ``(N, C, H, W)``, ``g``: ``(N, C_g)`` or ``(N, C_g, 1, 1)``
        - Output: ``(N, C_g)``, the attended descriptor ``g_a``

    Examples:
        >>> import torch, cvattn
        >>> att = cvattn.create("learn-to-pay-attention", channels=64, global_channels=64)
        >>> att(torch.randn(2, 64, 14, 14), torch.randn(2, 64)).shape
        torch.Size([2, 64])

    Deviations:
        Returns ``g_a`` only; the attention map ``a`` (the official module's first output) comes from
        :meth:`coefficients`. The ``pc`` projection ``u`` has no bias: the official 1x1 convolution has one,
        but a constant added to every score does not change the softmax, so it would never be trained.
        The official modules fix the map size in the graph (``Replicate(16)``, ``Reshape(16*16)``); this
        one takes any ``H x W``.

    Reference:
        Jetley, Lord, Lee, Torr. Learn To Pay Attention. ICLR 2018.
    """

    def __init__(self, channels: int, global_channels: int | None = None, compatibility: str = "pc") -> None:
        super().__init__()
        if compatibility not in COMPATIBILITIES:
            raise ValueError(f"compatibility must be one of {COMPATIBILITIES}, got {compatibility!r}")
        global_channels = channels if global_channels is None else global_channels
        if channels < 1 or global_channels < 1:
            raise ValueError(
                f"channels ({channels}) and global_channels ({global_channels}) must be positive"
            )
        self.channels, self.global_channels, self.compatibility = channels, global_channels, compatibility
        # local features projected to the global width (official up-projecting models: 1x1 conv with bias)
        self.project = (
            nn.Conv2d(channels, global_channels, 1) if channels != global_channels else nn.Identity()
        )
        if compatibility == "pc":
            self.u = nn.Linear(global_channels, 1, bias=False)

    def _query_keys(
        self, x: torch.Tensor, g: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        check_input(x, self.channels, name="x")
        if not isinstance(g, fx.Proxy):
            if not isinstance(g, torch.Tensor) or g.dim() not in (2, 4) or g.shape[1] != self.global_channels:
                shape = tuple(g.shape) if isinstance(g, torch.Tensor) else type(g).__name__
                raise ValueError(
                    f"g: expected (N, {self.global_channels}) or (N, {self.global_channels}, 1, 1), got {shape}"
                )
        g = g.flatten(1)  # (N, C_g)
        values = to_tokens(self.project(x))  # l_i: (N, HW, C_g)
        if self.compatibility == "pc":
            query = self.u.weight.expand(g.shape[0], -1)  # u: (N, C_g)
            keys = values + g[:, None, :]  # l_i + g
        else:
            query, keys = g, values
        return query[:, None, None, :], keys[:, None], values[:, None]  # (N, 1, 1, C_g), 2 x (N, 1, HW, C_g)

    def coefficients(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The attention map ``a``, ``(N, 1, H, W)``; it sums to one over the positions."""
        query, keys, _ = self._query_keys(x, g)
        c = (query @ keys.transpose(-2, -1)).flatten(1)  # compatibility scores: (N, HW)
        return c.softmax(dim=-1).view(x.shape[0], 1, x.shape[2], x.shape[3])

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        query, keys, values = self._query_keys(x, g)
        g_a = F.scaled_dot_product_attention(query, keys, values, scale=1.0)  # sum_i a_i l_i: (N, 1, 1, C_g)
        return g_a.flatten(1).contiguous()
