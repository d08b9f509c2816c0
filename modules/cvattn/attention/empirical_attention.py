"""Generalised attention of "An Empirical Study of Spatial Attention Mechanisms in Deep Networks".

Paper: "An Empirical Study of Spatial Attention Mechanisms in Deep Networks", Xizhou Zhu, Dazhi Cheng,
Zheng Zhang, Stephen Lin, Jifeng Dai, ICCV 2019, https://arxiv.org/abs/1904.05873.
Official code: mmcv's ``GeneralizedAttention`` (https://github.com/open-mmlab/mmcv,
``mmcv/cnn/bricks/generalized_attention.py``), used by mmdetection's ``configs/empirical_attention``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input


def relative_position_embedding(
    q_len: int,
    kv_len: int,
    q_stride: int,
    kv_stride: int,
    dim: int,
    magnitude: float = 1.0,
    wave_length: float = 1000.0,
    device: torch.device | None = None,
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """Sinusoidal embedding of the offsets ``magnitude * (i * q_stride - j * kv_stride)``: ``(q_len, kv_len, dim/2)``.

    ``[sin(delta / L^(4f/dim)), cos(delta / L^(4f/dim))]`` for ``f = 0 .. dim/4 - 1`` and ``L = wave_length``
    (the official ``get_position_embedding``, one axis at a time).
    """
    q_pos = torch.arange(q_len, device=device, dtype=dtype) * q_stride
    kv_pos = torch.arange(kv_len, device=device, dtype=dtype) * kv_stride
    delta = (q_pos[:, None] - kv_pos[None, :]).unsqueeze(-1) * magnitude  # (q_len, kv_len, 1)
    freq = torch.arange(dim // 4, device=device, dtype=dtype)
    dim_mat = wave_length ** ((4.0 / dim) * freq)  # (dim/4,)
    return torch.cat([(delta / dim_mat).sin(), (delta / dim_mat).cos()], dim=-1)


def local_constraint(
    q_len: int, kv_len: int, spatial_range: int, kv_stride: int, device: torch.device | None = None
) -> torch.Tensor:
    """Along one axis, whether key ``j`` is within ``spatial_range`` of query ``i``: ``(q_len, kv_len)`` bool.

    Allowed: ``(i - r) // s <= j <= (i + r + 1) // s`` with ``r = spatial_range``, ``s = kv_stride`` (the
    official ``local_constraint_map``, which indexes queries on the input grid).
    """
    i = torch.arange(q_len, device=device)[:, None]
    j = torch.arange(kv_len, device=device)[None, :]
    low = torch.div(i - spatial_range, kv_stride, rounding_mode="floor")
    high = torch.div(i + spatial_range + 1, kv_stride, rounding_mode="floor")
    return (j >= low) & (j <= high)


@register(
    "empirical-attention-0010", kind="attention", inputs=(64, 14, 14), channels=64, attention_type="0010"
)
@register("empirical-attention", kind="attention", inputs=(64, 14, 14), channels=64)
class GeneralizedAttention(nn.Module):
    """Generalised spatial attention: softmax over four selectable terms of content and relative position.

    For query ``q_i`` (a 1x1 projection of the input) and key ``k_j`` (a 1x1 projection of the input sampled
    every ``kv_stride`` pixels) the attention logit of each head sums the terms switched on by
    ``attention_type`` (four binary digits):

    1. query and key content, ``q_i . k_j``;
    2. query content and relative position, ``q_i . r_ij``;
    3. key content only, ``u . k_j`` with a learned vector ``u``;
    4. relative position only, ``v . r_ij`` with a learned vector ``v``.

    ``r_ij = (W_x e_x(dx) + W_y e_y(dy)) / sqrt(2)``: sinusoidal embeddings of the horizontal and vertical
    offsets, each projected by its own linear map. The weights are ``softmax_j`` of the logits (no scaling,
    as the official code); values are a 1x1 projection of the sampled map. With ``spatial_range >= 0`` only
    keys within that range of the query are attended. The heads' outputs are merged by a 1x1 convolution
    (with bias), bilinearly upsampled when ``q_stride > 1``, and added: ``y = x + gamma * out``.

    The logits are computed as ``(q_i + u) . k_j`` in ``scaled_dot_product_attention`` (scale 1) with the
    position terms as an additive mask, which equals the official sum of the four terms. Memory grows with
    ``(H*W / q_stride^2) * (H*W / kv_stride^2)`` when a position term is on (the position logits are a
    dense matrix, as in the official code); with the content terms only, the fused kernel avoids storing the
    attention matrix. ``"0010"`` alone makes the weights the same for every query: one context vector per
    image is computed and broadcast, as in the official code.

    Args:
        channels: input channels ``C``.
        spatial_range: attend only to keys within this many pixels (-1: all, the default).
        num_heads: number of heads; each has ``C // num_heads`` channels (9, the official default;
            mmdetection's configs pass 8). Lowered to ``C`` when there are fewer channels than heads (a
            narrow network), where mmcv would build heads of zero width.
        position_embedding_dim: width of the sinusoidal embeddings of both axes together, a multiple of 4
            (-1: ``C``, the default).
        position_magnitude: multiplier of the coordinate offsets (1).
        kv_stride: sampling stride of the key/value map (2).
        q_stride: sampling stride of the query map (1).
        attention_type: which terms are on, e.g. ``"1111"`` (all, default) or ``"0010"`` (key content only).
        zero_init: start ``gamma`` at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ga = cvattn.create("empirical-attention", channels=64, num_heads=8)
        >>> ga(torch.randn(2, 64, 13, 17)).shape
        torch.Size([2, 64, 13, 17])
        >>> cvattn.create("empirical-attention-0010", channels=64).attention_type
        '0010'

    Deviations:
        ``gamma`` starts at 0.1 unless ``zero_init``: at 0 no gradient reaches the projections at the first
        step, which the package's gradient check rejects. The local constraint of ``spatial_range`` is
        computed for the input's size instead of a stored byte tensor sized for 256 or 512 channels (the
        official module fails for other widths and counts that tensor among its parameters); with
        ``"0010"`` alone and a ``spatial_range``, every query gets its own range (the official shortcut
        applies the first query's range to all). For the attention types that use the query-and-position
        term without the position-only term (``"0100"``, ``"0110"``, ``"1100"``, ``"1110"``), mmcv takes the
        vertical offsets from a query with height and width swapped: wrong values on square maps and an
        error on others (mmdetection issue 8179); this module computes that term as for ``"1111"``.

    Reference:
        Zhu, Cheng, Zhang, Lin, Dai. An Empirical Study of Spatial Attention Mechanisms in Deep Networks.
        ICCV 2019.
    """

    def __init__(
        self,
        channels: int,
        spatial_range: int = -1,
        num_heads: int = 9,
        position_embedding_dim: int = -1,
        position_magnitude: float = 1,
        kv_stride: int = 2,
        q_stride: int = 1,
        attention_type: str = "1111",
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if len(attention_type) != 4 or set(attention_type) - {"0", "1"} or "1" not in attention_type:
            raise ValueError(f"attention_type must be four binary digits, not all 0, got {attention_type!r}")
        num_heads = min(num_heads, channels)  # every head needs at least one channel
        self.channels, self.num_heads, self.attention_type = channels, num_heads, attention_type
        self.spatial_range, self.position_magnitude = spatial_range, position_magnitude
        self.kv_stride, self.q_stride = kv_stride, q_stride
        self.terms = tuple(t == "1" for t in attention_type)
        t_qk, t_qr, t_k, t_r = self.terms
        self.position_embedding_dim = position_embedding_dim if position_embedding_dim > 0 else channels
        if (t_qr or t_r) and self.position_embedding_dim % 4:
            raise ValueError(
                f"position_embedding_dim must be a multiple of 4, got {self.position_embedding_dim}"
            )
        self.head_dim = channels // num_heads  # official qk_embed_dim = v_dim
        inner = self.head_dim * num_heads

        def conv(c_in: int, c_out: int, bias: bool = False) -> nn.Conv2d:
            return nn.Conv2d(c_in, c_out, 1, bias=bias)

        self.query_conv = conv(channels, inner) if (t_qk or t_qr) else None
        self.key_conv = conv(channels, inner) if (t_qk or t_k) else None
        self.value_conv = conv(channels, inner)
        if t_qr or t_r:
            self.appr_geom_fc_x = nn.Linear(self.position_embedding_dim // 2, inner, bias=False)
            self.appr_geom_fc_y = nn.Linear(self.position_embedding_dim // 2, inner, bias=False)
        stdv = 1.0 / math.sqrt(self.head_dim * 2)
        self.appr_bias = nn.Parameter(torch.empty(inner).uniform_(-stdv, stdv)) if t_k else None  # u
        self.geom_bias = nn.Parameter(torch.empty(inner).uniform_(-stdv, stdv)) if t_r else None  # v
        self.proj_conv = conv(inner, channels, bias=True)
        self.gamma = nn.Parameter(torch.zeros(1) if zero_init else torch.full((1,), 0.1))
        for m in self.modules():  # official kaiming_init(mode='fan_in', a=1, distribution='uniform', bias=0)
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_uniform_(m.weight, a=1, mode="fan_in", nonlinearity="leaky_relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def position_logits(
        self, p: torch.Tensor, x: torch.Tensor, h: int, w: int, h_kv: int, w_kv: int
    ) -> torch.Tensor:
        """``p_i . r_ij`` for query-side vectors ``p``, ``(N, heads, h, w, d)``: ``(N, heads, hw, h_kv w_kv)``.

        The embeddings are computed in the input's dtype ``x.dtype``, as the official code.
        """
        dim, heads, d = self.position_embedding_dim, self.num_heads, self.head_dim
        args = (self.q_stride, self.kv_stride, dim, self.position_magnitude)
        e_x = relative_position_embedding(w, w_kv, *args, device=x.device, dtype=x.dtype)  # (w, w_kv, dim/2)
        e_y = relative_position_embedding(h, h_kv, *args, device=x.device, dtype=x.dtype)  # (h, h_kv, dim/2)
        r_x = self.appr_geom_fc_x(e_x).reshape(w, w_kv, heads, d) / math.sqrt(2)  # (w, w_kv, heads, d)
        r_y = self.appr_geom_fc_y(e_y).reshape(h, h_kv, heads, d) / math.sqrt(2)  # (h, h_kv, heads, d)
        logit_x = torch.einsum("nhyxd,xjhd->nhyxj", p, r_x.to(p.dtype))  # (N, heads, h, w, w_kv)
        logit_y = torch.einsum("nhyxd,yihd->nhyxi", p, r_y.to(p.dtype))  # (N, heads, h, w, h_kv)
        logits = logit_y.unsqueeze(-1) + logit_x.unsqueeze(-2)  # (N, heads, h, w, h_kv, w_kv)
        return logits.reshape(p.size(0), heads, h * w, h_kv * w_kv)

    def split_heads(self, t: torch.Tensor) -> torch.Tensor:
        """``(N, heads * d, h, w) -> (N, heads, h*w, d)``."""
        return t.flatten(2).unflatten(1, (self.num_heads, self.head_dim)).transpose(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        t_qk, t_qr, t_k, t_r = self.terms
        heads, d = self.num_heads, self.head_dim
        x_q = x[:, :, :: self.q_stride, :: self.q_stride]  # official AvgPool2d(1, stride): subsampling
        x_kv = x[:, :, :: self.kv_stride, :: self.kv_stride]
        n, h, w = x.size(0), x_q.shape[2], x_q.shape[3]
        h_kv, w_kv = x_kv.shape[2], x_kv.shape[3]
        v = self.split_heads(self.value_conv(x_kv))  # (N, heads, h_kv w_kv, d)
        u = self.appr_bias.reshape(1, heads, 1, d).to(v.dtype) if t_k else None  # (1, heads, 1, d)
        if self.attention_type == "0010" and self.spatial_range < 0:  # the same weights for every query
            k = self.split_heads(self.key_conv(x_kv))  # (N, heads, h_kv w_kv, d)
            out = F.scaled_dot_product_attention(u.expand(n, -1, -1, -1), k, v, scale=1.0)  # (N, heads, 1, d)
            return x + self.gamma * self.proj_conv(out.reshape(n, heads * d, 1, 1))
        if t_qk or t_qr:
            q = self.split_heads(self.query_conv(x_q))  # (N, heads, hw, d)
        if t_qk or t_k:
            k = self.split_heads(self.key_conv(x_kv))  # (N, heads, h_kv w_kv, d)
            content = (q + u if t_k else q) if t_qk else u.expand(n, -1, h * w, -1)  # (N, heads, hw, d)
        else:  # no content term: zero query, the logits are the position terms only
            k = torch.zeros_like(v)
            content = torch.zeros(n, heads, h * w, d, dtype=v.dtype, device=v.device)
        bias = None
        if t_qr or t_r:
            g = self.geom_bias.reshape(1, heads, 1, d).to(v.dtype) if t_r else None
            p = (q + g if t_r else q) if t_qr else g.expand(n, -1, h * w, -1)  # (N, heads, hw, d)
            bias = self.position_logits(p.reshape(n, heads, h, w, d), x, h, w, h_kv, w_kv)
        if self.spatial_range >= 0:
            r, s = self.spatial_range, self.kv_stride
            inside = (
                local_constraint(h, h_kv, r, s, x.device)[:, None, :, None]
                & local_constraint(w, w_kv, r, s, x.device)[None, :, None, :]
            )  # (h, w, h_kv, w_kv)
            inside = inside.reshape(h * w, h_kv * w_kv)
            bias = inside if bias is None else bias.masked_fill(~inside, float("-inf"))
        out = F.scaled_dot_product_attention(content, k, v, attn_mask=bias, scale=1.0)  # (N, heads, hw, d)
        out = self.proj_conv(out.transpose(2, 3).reshape(n, heads * d, h, w))  # (N, C, h, w)
        if self.q_stride > 1:
            out = F.interpolate(out, size=x.shape[2:], mode="bilinear", align_corners=False)
        return x + self.gamma * out
