"""Focal modulation of FocalNets.

Paper: "Focal Modulation Networks", Jianwei Yang, Chunyuan Li, Xiyang Dai, Jianfeng Gao, NeurIPS 2022,
https://openreview.net/forum?id=ePhEbo039l (arXiv:2203.11926). Official code: https://github.com/microsoft/FocalNet
(``classification/focalnet.py``, ``FocalModulation``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format
from ..tokens import from_channels_last, to_channels_last


@register("focalnet", kind="attention", inputs=(64, 14, 14), channels=64, focal_window=3, focal_level=2)
class FocalModulation(nn.Module):
    """Focal modulation: a query modulated by context gathered at several granularities and gated per position.

    A linear layer gives the query ``q``, the context ``z^0`` and ``L + 1`` gates ``g``. Hierarchical
    contextualisation stacks depthwise convolutions, ``z^l = GELU(DWConv_{k_l}(z^{l-1}))`` with
    ``k_l = focal_window + focal_factor * (l - 1)`` for ``l = 1..L``, plus a global level
    ``z^{L+1} = GELU(mean_{HW}(z^L))``. Gated aggregation forms ``m = h(sum_l g_l * z^l)`` (``h`` a 1x1 convolution;
    optionally the sum is divided by ``L + 1``), and the output is ``proj(q * m)`` (optionally layer-normalised
    before ``proj``). No attention matrix is formed: memory grows with ``H*W*C`` (linear in the number of
    pixels).

    Args:
        channels: channels ``C``.
        focal_window: kernel size of the first focal level (FocalNet default 3).
        focal_level: number of focal levels ``L``, not counting the global one (FocalNet default 2).
        focal_factor: growth of the kernel size from one level to the next (2).
        bias: bias in the input projection and in ``h`` (True).
        proj_drop: dropout after the output projection (0).
        use_postln_in_modulation: layer norm on ``q * m`` before the output projection (False).
        normalize_modulator: divide the aggregated context by ``L + 1`` (False).
        act_layer: activation of the focal levels and of the global context (GELU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> fm = cvattn.create("focalnet", channels=64, focal_window=3, focal_level=2)
        >>> fm(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H, W, C)``; the gates and the modulator are not
        kept as attributes of the module after the forward pass.

    Reference:
        Yang, Li, Dai, Gao. Focal Modulation Networks. NeurIPS 2022.
    """

    def __init__(
        self,
        channels: int,
        focal_window: int = 3,
        focal_level: int = 2,
        focal_factor: int = 2,
        bias: bool = True,
        proj_drop: float = 0.0,
        use_postln_in_modulation: bool = False,
        normalize_modulator: bool = False,
        act_layer: LayerType = nn.GELU,
    ) -> None:
        super().__init__()
        if focal_level < 1:
            raise ValueError(f"focal_level must be at least 1, got {focal_level}")
        kernel_sizes = [focal_factor * level + focal_window for level in range(focal_level)]
        if any(k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(f"focal kernel sizes must be odd and positive, got {kernel_sizes}")
        self.channels, self.focal_level = channels, focal_level
        self.normalize_modulator = normalize_modulator
        self.kernel_sizes = kernel_sizes
        self.f = nn.Linear(channels, 2 * channels + focal_level + 1, bias=bias)
        self.h = nn.Conv2d(channels, channels, 1, bias=bias)
        self.act = create_act(act_layer)
        self.focal_layers = nn.ModuleList(
            nn.Sequential(
                nn.Conv2d(channels, channels, k, padding=k // 2, groups=channels, bias=False),
                create_act(act_layer),
            )
            for k in kernel_sizes
        )
        self.ln = nn.LayerNorm(channels) if use_postln_in_modulation else None
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        c, levels = self.channels, self.focal_level
        # the token-wise linear layers as 1x1 convolutions (the same weights): on a channels-last view the
        # split below leaves gate slices with odd strides, which made every gating product slow
        z = F.conv2d(x, self.f.weight[:, :, None, None], self.f.bias)  # (N, 2C + L + 1, H, W)
        q, ctx, gates = torch.split(z, (c, c, levels + 1), dim=1)
        ctx_all = 0
        for level, layer in enumerate(self.focal_layers):
            ctx = layer(ctx)  # z^l, receptive field grows with l
            ctx_all = ctx_all + ctx * gates[:, level : level + 1]
        ctx_global = self.act(ctx.mean((2, 3), keepdim=True))  # z^{L+1}: (N, C, 1, 1)
        ctx_all = ctx_all + ctx_global * gates[:, levels:]
        if self.normalize_modulator:
            ctx_all = ctx_all / (levels + 1)
        modulator = self.h(ctx_all)
        y = q * modulator
        if self.ln is not None:  # over the channels of each position
            y = from_channels_last(self.ln(to_channels_last(y)))
        y = self.proj_drop(F.conv2d(y, self.proj.weight[:, :, None, None], self.proj.bias))
        return match_memory_format(y, x)
