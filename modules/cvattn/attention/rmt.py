"""Manhattan self-attention (MaSA) of RMT: softmax attention with an explicit spatial decay by Manhattan distance.

Paper: "RMT: Retentive Networks Meet Vision Transformers", Qihang Fan, Huaibo Huang, Mingrui Chen, Hongmin Liu,
Ran He, CVPR 2024, https://openaccess.thecvf.com/content/CVPR2024/html/Fan_RMT_Retentive_Networks_Meet_Vision_Transformers_CVPR_2024_paper.html
(arXiv:2309.11523). Official code: https://github.com/qhfan/RMT (``classfication_release/RMT.py``:
``VisionRetentionChunk`` (decomposed), ``VisionRetentionAll`` (full) and ``RetNetRelPos2d`` (decay and rotation)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_channels_last, to_channels_last


def _rotation_and_decay(
    angle: torch.Tensor, decay: torch.Tensor, h: int, w: int, decomposed: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``sin, cos`` of the rotation (by raster index, ``(H, W, d)``) and the decay masks: ``(n, H, H)`` and
    ``(n, W, W)`` of ``|i - j| log(gamma)`` when decomposed; else ``(n, HW, HW)`` of the Manhattan distance
    times ``log(gamma)``, returned twice."""
    index = torch.arange(h * w, dtype=decay.dtype, device=decay.device)
    phase = (index[:, None] * angle[None, :]).reshape(h, w, -1)
    if decomposed:
        rows = torch.arange(h, dtype=decay.dtype, device=decay.device)
        cols = torch.arange(w, dtype=decay.dtype, device=decay.device)
        mask_h = (rows[:, None] - rows[None, :]).abs() * decay[:, None, None]
        mask_w = (cols[:, None] - cols[None, :]).abs() * decay[:, None, None]
        return phase.sin(), phase.cos(), mask_h, mask_w
    grid = torch.stack(torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij"), -1).reshape(h * w, 2)
    dist = (grid[:, None, :] - grid[None, :, :]).abs().sum(-1).to(decay)  # Manhattan distance (HW, HW)
    mask = dist * decay[:, None, None]
    return phase.sin(), phase.cos(), mask, mask


# built from the map size: a leaf of the torch.fx trace, so the trace holds for every input size
fx.wrap("_rotation_and_decay")


def _rotate(x: torch.Tensor, sin: torch.Tensor, cos: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding on channel pairs: ``(x_0, x_1) -> (x_0 cos - x_1 sin, x_1 cos + x_0 sin)``."""
    pairs = x.unflatten(-1, (-1, 2))
    rotated = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).flatten(-2)
    return x * cos + rotated * sin


class _MaSABase(nn.Module):
    decomposed = True

    def __init__(
        self,
        channels: int,
        num_heads: int = 4,
        init_value: float = 2.0,
        heads_range: float = 4.0,
        value_factor: int = 1,
        lepe_kernel_size: int = 5,
    ) -> None:
        super().__init__()
        if channels < 1 or num_heads < 1 or channels % num_heads or (channels // num_heads) % 2:
            raise ValueError(
                f"channels ({channels}) must split into num_heads ({num_heads}) heads of even width"
            )
        if value_factor < 1 or lepe_kernel_size % 2 == 0:
            raise ValueError("value_factor must be >= 1 and lepe_kernel_size odd")
        self.channels, self.num_heads = channels, num_heads
        self.key_dim = channels // num_heads
        self.scale = self.key_dim**-0.5
        angle = 1.0 / (10000 ** torch.linspace(0, 1, self.key_dim // 2))
        self.register_buffer("angle", angle.repeat_interleave(2), persistent=False)
        heads = torch.arange(num_heads, dtype=torch.float)
        self.register_buffer(
            "decay", torch.log(1 - 2 ** (-init_value - heads_range * heads / num_heads)), persistent=False
        )
        self.q = nn.Linear(channels, channels)
        self.k = nn.Linear(channels, channels)
        self.v = nn.Linear(channels, channels * value_factor)
        vdim = channels * value_factor
        self.lepe = nn.Conv2d(vdim, vdim, lepe_kernel_size, padding=lepe_kernel_size // 2, groups=vdim)
        self.proj = nn.Linear(vdim, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        b, _, h, w = x.shape
        n = self.num_heads
        sin, cos, mask_a, mask_b = _rotation_and_decay(self.angle, self.decay, h, w, self.decomposed)
        t = to_channels_last(x)  # (B, H, W, C)
        v = self.v(t)  # (B, H, W, n d_v)
        lepe = to_channels_last(self.lepe(from_channels_last(v)))
        q = _rotate(self.q(t).unflatten(-1, (n, -1)).permute(0, 3, 1, 2, 4), sin, cos)  # (B, n, H, W, d)
        k = _rotate(self.k(t).unflatten(-1, (n, -1)).permute(0, 3, 1, 2, 4), sin, cos)  # (B, n, H, W, d)
        v = v.unflatten(-1, (n, -1)).permute(0, 3, 1, 2, 4)  # (B, n, H, W, d_v)
        if self.decomposed:
            # along each row (W), then along each column (H) of the result, with 1-D decays
            q_w, k_w, v_w = (z.transpose(1, 2) for z in (q, k, v))  # (B, H, n, W, .)
            y = F.scaled_dot_product_attention(q_w, k_w, v_w, attn_mask=mask_b.to(q.dtype), scale=self.scale)
            q_h, k_h = (z.permute(0, 3, 1, 2, 4) for z in (q, k))  # (B, W, n, H, d)
            y = F.scaled_dot_product_attention(
                q_h, k_h, y.permute(0, 3, 2, 1, 4), attn_mask=mask_a.to(q.dtype), scale=self.scale
            )  # (B, W, n, H, d_v)
            y = y.permute(0, 3, 1, 2, 4).flatten(-2)  # (B, H, W, n d_v)
        else:
            q, k, v = (z.flatten(2, 3) for z in (q, k, v))  # (B, n, HW, .)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask_a.to(q.dtype), scale=self.scale)
            y = y.transpose(1, 2).reshape(b, h, w, -1)  # (B, H, W, n d_v)
        y = self.proj(y + lepe)
        return match_memory_format(from_channels_last(y), x)


@register("rmt", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=4)
class MaSA(_MaSABase):
    """Decomposed Manhattan self-attention: softmax attention along rows, then columns, with a 1-D decay prior.

    RMT's decomposed MaSA (early stages) attends within each row with the decay mask
    ``log(gamma) |w_n - w_m|``, then, on the result, within each column with ``log(gamma) |h_n - h_m|``;
    together they spread attention over the whole map while the prior favours near pixels. Queries and keys get
    a rotary position embedding by raster index; the logits are ``q k^T / sqrt(d) + mask`` per head with
    ``gamma_h = 1 - 2^(-a - b h / n_heads)`` (``a = init_value``, ``b = heads_range``). A depthwise conv of the
    values (LePE) is added before the output projection. Memory grows with ``H*W*(H+W)`` per head.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads (RMT stages: 4, 4, 8, 16 for RMT-T/S).
        init_value: ``a`` of the per-head decay (RMT models: 2).
        heads_range: ``b`` of the per-head decay (RMT-T/S stages: 4, 4, 6, 6).
        value_factor: value width as a multiple of ``C`` (1).
        lepe_kernel_size: kernel of the depthwise LePE conv on the values (5).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> masa = cvattn.create("rmt", channels=64, num_heads=4)
        >>> masa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H, W, C)`` tokens plus precomputed
        positions; the decay and rotation (the official ``RetNetRelPos2d``) are computed inside. With
        ``value_factor > 1`` the LePE conv takes the wider values (the official one is built for ``C`` channels
        and fails then).

    Reference:
        Fan, Huang, Chen, Liu, He. RMT: Retentive Networks Meet Vision Transformers. CVPR 2024.
    """

    decomposed = True


@register("rmt-full", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=4)
class MaSAFull(_MaSABase):
    """Full Manhattan self-attention: softmax attention over all pixels with a Manhattan-distance decay prior.

    RMT's full MaSA (last stage) adds ``log(gamma) (|h_n - h_m| + |w_n - w_m|)`` to the logits of every pair of
    pixels, ``A = softmax(q k^T / sqrt(d) + log(gamma) D) v``, an explicit spatial prior that favours nearby
    pixels with a different strength per head, ``gamma_h = 1 - 2^(-a - b h / n_heads)``. Queries and keys get a
    rotary position embedding by raster index, and a depthwise conv of the values (LePE) is added before the
    output projection. Memory grows with ``(H*W)^2`` per head.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads (RMT-T/S last stage: 16).
        init_value: ``a`` of the per-head decay (RMT models: 2).
        heads_range: ``b`` of the per-head decay (RMT-T/S last stage: 6).
        value_factor: value width as a multiple of ``C`` (1).
        lepe_kernel_size: kernel of the depthwise LePE conv on the values (5).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> masa = cvattn.create("rmt-full", channels=64, num_heads=4)
        >>> masa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, H, W, C)`` tokens plus precomputed
        positions; the decay and rotation (the official ``RetNetRelPos2d``) are computed inside. With
        ``value_factor > 1`` the LePE conv takes the wider values (the official one is built for ``C`` channels
        and fails then).

    Reference:
        Fan, Huang, Chen, Liu, He. RMT: Retentive Networks Meet Vision Transformers. CVPR 2024.
    """

    decomposed = False
