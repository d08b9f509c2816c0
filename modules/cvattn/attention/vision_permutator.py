"""Weighted Permute-MLP of Vision Permutator (ViP).

Paper: "Vision Permutator: A Permutable MLP-Like Architecture for Visual Recognition", Qibin Hou, Zihang Jiang,
Li Yuan, Ming-Ming Cheng, Shuicheng Yan, Jiashi Feng, IEEE TPAMI 2023 (early access 2022),
https://doi.org/10.1109/TPAMI.2022.3145427 (arXiv 2106.12368). Official code:
https://github.com/Andrew-Qibin/VisionPermutator (``models/vip.py``, ``WeightedPermuteMLP``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format
from ..tokens import from_channels_last, to_channels_last


@register("vision-permutator", kind="attention", inputs=(64, 8, 8), channels=64, segment_dim=8)
class WeightedPermuteMLP(nn.Module):
    """ViP weighted Permute-MLP: linear maps along the height, the width and the channels, fused by learned weights.

    The channels are cut into ``g = segment_dim`` segments of ``S = C / g``. The height branch swaps the
    height axis with the segment axis, so that for every column and segment one linear map ``W_H`` mixes the
    ``H x S`` values of that column (``H = g``), and swaps back; the width branch does the same along the width
    with ``W_W``; the channel branch is a linear map ``W_C`` per position. The three outputs ``X_H, X_W, X_C``
    are averaged over all positions, an MLP ``C -> C/4 -> 3C`` with a softmax over the three branches gives
    per-channel weights ``a``, and the output is ``proj(a_H X_H + a_W X_W + a_C X_C)``. Memory grows with
    ``H*W*C`` (linear in ``H*W``).

    Args:
        channels: channels ``C``; must be divisible by ``segment_dim``.
        segment_dim: channel segments ``g``, which also fixes the height and width the branch maps are built for
            (official class default 8; ViP-S/7 stages: 32, 16, 16, 16).
        qkv_bias: bias in the three branch maps (official: False).
        act_layer: activation of the re-weighting MLP (GELU).
        proj_drop: dropout after the output projection.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> pmlp = cvattn.create("vision-permutator", channels=64, segment_dim=8)
        >>> pmlp(torch.randn(2, 64, 8, 8)).shape
        torch.Size([2, 64, 8, 8])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H, W, C)``. The official layer runs only on
        ``H = W = segment_dim`` (its height and width maps take ``H * S = C`` and ``W * S = C`` inputs). For any
        other size this module (a cvattn choice, not in the paper or code) zero-pads the bottom (height branch)
        and the right (width branch) to multiples of ``segment_dim``, applies the same map to every run of
        ``segment_dim`` rows or columns, crops, and averages the branch outputs over the real positions only.

    Reference:
        Hou, Jiang, Yuan, Cheng, Yan, Feng. Vision Permutator: A Permutable MLP-Like Architecture for Visual
        Recognition. TPAMI 2023.
    """

    def __init__(
        self,
        channels: int,
        segment_dim: int = 8,
        qkv_bias: bool = False,
        act_layer: LayerType = nn.GELU,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if segment_dim < 1 or channels < 4 or channels % segment_dim:
            raise ValueError(
                f"channels ({channels}) must be at least 4 and divisible by segment_dim ({segment_dim})"
            )
        self.channels, self.segment_dim = channels, segment_dim
        self.mlp_c = nn.Linear(channels, channels, bias=qkv_bias)
        self.mlp_h = nn.Linear(channels, channels, bias=qkv_bias)
        self.mlp_w = nn.Linear(channels, channels, bias=qkv_bias)
        self.reweight = nn.Sequential(
            nn.Linear(channels, channels // 4), create_act(act_layer), nn.Linear(channels // 4, 3 * channels)
        )
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def _along_height(self, t: torch.Tensor) -> torch.Tensor:
        n, height, width, c = t.shape
        g = self.segment_dim
        ph = (-height) % g
        tp = F.pad(t, (0, 0, 0, 0, 0, ph))  # (N, H', W, C)
        gh = (height + ph) // g
        # (N, gh, g rows, W, g segments, S) -> (N, gh, segments, W, rows * S)
        u = tp.reshape(n, gh, g, width, g, c // g).permute(0, 1, 4, 3, 2, 5).reshape(n, gh, g, width, c)
        u = self.mlp_h(u).reshape(n, gh, g, width, g, c // g).permute(0, 1, 4, 3, 2, 5)
        return u.reshape(n, height + ph, width, c)[:, :height]

    def _along_width(self, t: torch.Tensor) -> torch.Tensor:
        n, height, width, c = t.shape
        g = self.segment_dim
        pw = (-width) % g
        tp = F.pad(t, (0, 0, 0, pw))  # (N, H, W', C)
        gw = (width + pw) // g
        # (N, H, gw, g cols, g segments, S) -> (N, H, gw, segments, cols * S)
        u = tp.reshape(n, height, gw, g, g, c // g).permute(0, 1, 2, 4, 3, 5).reshape(n, height, gw, g, c)
        u = self.mlp_w(u).reshape(n, height, gw, g, g, c // g).permute(0, 1, 2, 4, 3, 5)
        return u.reshape(n, height, width + pw, c)[:, :, :width]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        t = to_channels_last(x)  # (N, H, W, C)
        x_h, x_w, x_c = self._along_height(t), self._along_width(t), self.mlp_c(t)
        s = (x_h + x_w + x_c).mean(dim=(1, 2))  # (N, C)
        a = self.reweight(s).reshape(-1, self.channels, 3).permute(2, 0, 1).softmax(dim=0)  # (3, N, C)
        a = a[:, :, None, None, :]  # (3, N, 1, 1, C)
        y = self.proj_drop(self.proj(x_h * a[0] + x_w * a[1] + x_c * a[2]))  # (N, H, W, C)
        return match_memory_format(from_channels_last(y), x)
