"""gMLP block with its spatial gating unit (SGU).

Paper: "Pay Attention to MLPs", Hanxiao Liu, Zihang Dai, David R. So, Quoc V. Le, NeurIPS 2021,
https://proceedings.neurips.cc/paper/2021/hash/4cc05b35c2f937c5bd9e7d41d3686fff-Abstract.html (arXiv 2105.08050).
No official code was released; this module follows the paper's equations and its pseudo-code (Figure 1).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, get_layer, match_memory_format
from ..tokens import from_channels_last, to_channels_last
from .mlp_mixer import mix_windows


@register("gmlp", kind="attention", inputs=(64, 14, 14), channels=64, h=14, w=14, ffn_ratio=6)
class GMLP(nn.Module):
    """gMLP: channel projection, GELU, spatial gating unit, channel projection; no attention.

    With the ``n = h*w`` tokens ``X`` (``n x C``): ``Z = GELU(X U)`` with ``U`` of shape ``C x d``;
    the SGU splits ``Z`` along the channels into halves ``(Z1, Z2)`` and gates the first with a linear
    projection of the second across the spatial axis, ``s(Z) = Z1 * (W LayerNorm(Z2) + b)``, ``W`` of shape
    ``n x n`` (initialised near zero, ``b`` to ones, so each block starts close to a plain FFN); the output is
    ``s(Z) V`` with ``V`` of shape ``d/2 x C``. Memory grows with ``H*W*d`` (linear in ``H*W``); the spatial
    weights grow with ``(h*w)^2``.

    Args:
        channels: channels ``C`` (``d_model``).
        h: height of the token grid the spatial projection is built for (224 px images, 16 px patches: 14).
        w: width of that grid (14).
        ffn_ratio: ``d / C`` (the paper's ImageNet models: ``d_ffn = 6 d_model``, e.g. 768 / 128 for gMLP-Ti).
        act_layer: activation after the first projection (GELU).
        norm_layer: normalisation of ``Z2`` over the channels (LayerNorm).
        init_eps: ``W`` starts uniform in ``[-init_eps / n, init_eps / n]`` ("near-zero"; the paper gives no
            value, 1e-3 here).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("gmlp", channels=64, h=14, w=14, ffn_ratio=6)
        >>> block(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        No official code exists; this follows the paper. Takes and returns a ``(N, C, H, W)`` map instead of
        ``(N, n, C)`` tokens, and leaves the block's input LayerNorm and residual (``x + gMLP(norm(x))``) to the
        caller, as for the attention modules here. The spatial projection is defined for ``n = h*w`` tokens
        only; for a larger map this module applies it with the same weights to every ``h x w`` window, zero-
        padding ``LayerNorm(Z2)`` at the bottom and right to multiples of ``(h, w)`` and cropping the gate back
        (a cvattn choice, not in the paper).

    Reference:
        Liu, Dai, So, Le. Pay Attention to MLPs. NeurIPS 2021.
    """

    def __init__(
        self,
        channels: int,
        h: int = 14,
        w: int = 14,
        ffn_ratio: int = 6,
        act_layer: LayerType = nn.GELU,
        norm_layer: LayerType = nn.LayerNorm,
        init_eps: float = 1e-3,
    ) -> None:
        super().__init__()
        if min(channels, h, w, ffn_ratio) < 1:
            raise ValueError(
                f"channels, h, w and ffn_ratio must be positive, got {channels}, {h}, {w}, {ffn_ratio}"
            )
        hidden = channels * ffn_ratio
        if hidden % 2:
            raise ValueError(f"channels * ffn_ratio ({hidden}) must be even: the SGU splits it in halves")
        self.channels, self.h, self.w, self.hidden = channels, h, w, hidden
        self.proj_in = nn.Linear(channels, hidden)  # U
        self.act = create_act(act_layer)
        self.norm = get_layer(norm_layer)(hidden // 2)
        self.proj_spatial = nn.Linear(h * w, h * w)  # W, b over the n tokens
        self.proj_out = nn.Linear(hidden // 2, channels)  # V
        nn.init.uniform_(self.proj_spatial.weight, -init_eps / (h * w), init_eps / (h * w))
        nn.init.ones_(self.proj_spatial.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = self.act(self.proj_in(to_channels_last(x)))  # (N, H, W, d)
        z1, z2 = z.chunk(2, dim=-1)  # (N, H, W, d/2) each
        v = from_channels_last(self.norm(z2))  # (N, d/2, H, W)
        gate = to_channels_last(mix_windows(v, self.proj_spatial, self.h, self.w))  # W v + b
        y = self.proj_out(z1 * gate)  # (N, H, W, C)
        return match_memory_format(from_channels_last(y), x)
