"""Spatial and channel synergistic attention (SCSA).

Paper: "SCSA: Exploring the Synergistic Effects Between Spatial and Channel Attention", Yunzhong Si, Huiying Xu,
Xinzhong Zhu, Wenhao Zhang, Yao Dong, Yuxing Chen, Hongbo Li, arXiv 2024 (journal version: Neurocomputing,
2025), https://arxiv.org/abs/2407.05128. Official code: https://github.com/HZAI-ZJNU/SCSA
(``mmpretrain/models/attentions/SCSA.py``, ``SCSA``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input


@register("scsa", kind="attention", inputs=(64, 14, 14), channels=64)
class SCSA(nn.Module):
    """SCSA: multi-semantic spatial attention (SMSA) followed by channel-wise self-attention (PCSA).

    SMSA: the map is averaged along the width and along the height, ``x_h (C x H)`` and ``x_w (C x W)``;
    each is split into four channel groups that pass depthwise 1-D convolutions of sizes 3, 5, 7, 9
    (shared by the two directions), then GroupNorm (4 groups) and a sigmoid:
    ``x' = x * a_h * a_w``. PCSA: ``y = GN_1(AvgPool_{w x w}(x'))`` (window ``w``, stride ``w``); per-channel
    1x1 convolutions give ``q, k, v``, and the channels attend to each other with the positions of ``y``
    as features, ``softmax(q k^T / sqrt(d)) v`` with ``d = C / heads`` channels a head; the result is
    averaged over positions and gated, ``out = sigmoid(mean(attn)) * x'``. Memory grows with
    ``C^2 / heads + C * H*W / w^2``: linear in ``H*W``.

    Args:
        channels: input channels ``C`` (divisible by 4 and by ``num_heads``).
        num_heads: heads of the channel self-attention (the official ``head_num``, no default; 1 in
            every official configuration).
        window_size: pooling window and stride ``w`` before PCSA (official 7); ``-1`` pools globally.
        group_kernel_sizes: sizes of the four depthwise 1-D convolutions (official 3, 5, 7, 9).
        qkv_bias: bias in the per-channel ``q, k, v`` convolutions (official False).
        down_sample_mode: ``"avg_pool"`` (official) or ``"max_pool"``.
        attn_drop: dropout on the attention weights (official 0).
        gate_layer: ``"sigmoid"`` (official) or ``"softmax"`` (over positions in SMSA, over channels in PCSA).

    Shape:
        - Input: ``(N, C, H, W)`` with ``H, W >= window_size``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> scsa = cvattn.create("scsa", channels=64)
        >>> scsa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official ``down_sample_mode="recombination"`` is not provided: it calls ``space_to_chans``,
        which the official class does not define. The unused official ``fuse_bn``, ``norm_cfg`` and
        ``act_cfg`` arguments are left out.

    Reference:
        Si, Xu, Zhu, Zhang, Dong, Chen, Li. SCSA: Exploring the Synergistic Effects Between Spatial and
        Channel Attention. arXiv:2407.05128, 2024.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        window_size: int = 7,
        group_kernel_sizes: Sequence[int] = (3, 5, 7, 9),
        qkv_bias: bool = False,
        down_sample_mode: str = "avg_pool",
        attn_drop: float = 0.0,
        gate_layer: str = "sigmoid",
    ) -> None:
        super().__init__()
        if channels % 4 or num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by 4 and by num_heads ({num_heads})")
        if len(group_kernel_sizes) != 4:
            raise ValueError(f"group_kernel_sizes must give four sizes, got {group_kernel_sizes}")
        if down_sample_mode not in ("avg_pool", "max_pool"):
            raise ValueError(f"down_sample_mode must be 'avg_pool' or 'max_pool', got {down_sample_mode!r}")
        if gate_layer not in ("sigmoid", "softmax"):
            raise ValueError(f"gate_layer must be 'sigmoid' or 'softmax', got {gate_layer!r}")
        if window_size < 1 and window_size != -1:
            raise ValueError(f"window_size must be positive or -1, got {window_size}")
        self.channels, self.num_heads, self.window_size = channels, num_heads, window_size
        self.scale = (channels // num_heads) ** -0.5
        self.attn_drop, self.softmax_gate = attn_drop, gate_layer == "softmax"
        self.down_sample_mode = down_sample_mode
        g = self.group_channels = channels // 4
        k_l, k_s, k_m, k_g = group_kernel_sizes
        self.local_dwc = nn.Conv1d(g, g, k_l, padding=k_l // 2, groups=g)
        self.global_dwc_s = nn.Conv1d(g, g, k_s, padding=k_s // 2, groups=g)
        self.global_dwc_m = nn.Conv1d(g, g, k_m, padding=k_m // 2, groups=g)
        self.global_dwc_l = nn.Conv1d(g, g, k_g, padding=k_g // 2, groups=g)
        self.norm_h = nn.GroupNorm(4, channels)
        self.norm_w = nn.GroupNorm(4, channels)
        self.norm = nn.GroupNorm(1, channels)
        self.q = nn.Conv2d(channels, channels, 1, bias=qkv_bias, groups=channels)
        self.k = nn.Conv2d(channels, channels, 1, bias=qkv_bias, groups=channels)
        self.v = nn.Conv2d(channels, channels, 1, bias=qkv_bias, groups=channels)

    def _directional_gate(self, p: torch.Tensor, norm: nn.Module) -> torch.Tensor:
        """SMSA along one direction: ``p`` is ``(N, C, L)``; four depthwise 1-D convs, GroupNorm and the gate."""
        g = self.group_channels
        convs = (self.local_dwc, self.global_dwc_s, self.global_dwc_m, self.global_dwc_l)
        z = norm(torch.cat([conv(p[:, i * g : (i + 1) * g]) for i, conv in enumerate(convs)], dim=1))
        return torch.softmax(z, dim=2) if self.softmax_gate else torch.sigmoid(z)

    def _down(self, x: torch.Tensor) -> torch.Tensor:
        w = self.window_size
        if w == -1:
            return x.mean((2, 3), keepdim=True)
        if self.down_sample_mode == "max_pool":
            return F.max_pool2d(x, w, w)
        return F.avg_pool2d(x, w, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if not isinstance(x, fx.Proxy) and self.window_size > min(x.shape[-2:]):
            raise ValueError(
                f"input: expected H and W of at least window_size {self.window_size}, got {tuple(x.shape)}"
            )
        # SMSA: shareable multi-semantic spatial attention
        a_h = self._directional_gate(x.mean(3), self.norm_h).unsqueeze(-1)  # (N, C, H, 1)
        a_w = self._directional_gate(x.mean(2), self.norm_w).unsqueeze(-2)  # (N, C, 1, W)
        x = x * a_h * a_w
        # PCSA: progressive channel-wise self-attention on the pooled map
        y = self.norm(self._down(x))  # (N, C, h, w)
        h, d = self.num_heads, self.channels // self.num_heads
        q, k, v = (
            proj(y).flatten(2).unflatten(1, (h, d)) for proj in (self.q, self.k, self.v)
        )  # (N, h, d, hw)
        drop = self.attn_drop if self.training else 0.0
        attn = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # channels attend
        attn = attn.flatten(1, 2).mean(-1)[..., None, None]  # (N, C, 1, 1)
        gate = torch.softmax(attn, dim=1) if self.softmax_gate else torch.sigmoid(attn)
        return gate * x
