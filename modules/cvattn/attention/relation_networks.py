"""Object relation module of Relation Networks, applied to the pixels of a feature map.

Paper: "Relation Networks for Object Detection", Han Hu, Jiayuan Gu, Zheng Zhang, Jifeng Dai, Yichen Wei, CVPR 2018,
https://openaccess.thecvf.com/content_cvpr_2018/html/Hu_Relation_Networks_for_CVPR_2018_paper.html. Official code
(MXNet): https://github.com/msracver/Relation-Networks-for-Object-Detection
(``relation_rcnn/symbols/resnet_v1_101_rcnn_attention_1024_pairwise_position_multi_head_16.py``,
``attention_module_multi_head``, ``extract_position_matrix``, ``extract_position_embedding``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


def _sinusoid(p: torch.Tensor, pos_dim: int, wave_length: float) -> torch.Tensor:
    """Embed one geometric feature ``(...)`` as ``(..., pos_dim / 4)``: 8 sines then 8 cosines (pos_dim=64)."""
    freq = torch.arange(pos_dim // 8, device=p.device, dtype=p.dtype)
    div = (100.0 * p).unsqueeze(-1) / wave_length ** ((8.0 / pos_dim) * freq)
    return torch.cat([div.sin(), div.cos()], dim=-1)


@register("relation-networks", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=16)
class RelationModule(nn.Module):
    """Object relation module: multi-head attention with appearance and geometric weights, over pixels.

    Every pixel is an object whose box is its unit cell, so its appearance feature ``f_A`` is its ``C``-vector
    and its geometry is its row and column. For head ``r`` the relation weight of pixel ``m`` on pixel ``n`` is
    ``w^{mn} = w_G^{mn} exp(w_A^{mn}) / sum_k w_G^{kn} exp(w_A^{kn})`` with the appearance weight
    ``w_A^{mn} = <W_K f_A^m, W_Q f_A^n> / sqrt(d_k)`` and the geometric weight
    ``w_G^{mn} = max(0, W_G E_G(f_G^m, f_G^n))``, where ``E_G`` embeds the relative geometry
    ``(log(|x_m - x_n| / w_n), log(|y_m - y_n| / h_n), log(w_m / w_n), log(h_m / h_n))`` with sines and cosines
    of ``wave_length``-based frequencies (``|.|`` clipped at ``1e-3``). As in the official code this is
    ``softmax(log(max(w_G, 1e-6)) + w_A)`` (so ``log w_G`` is an additive bias), the values are the raw
    features, ``f_R^r(n) = W_V^r sum_m w^{mn} f_A^m`` with ``W_V^r`` mapping ``C`` to ``C / N_r``, and the
    output is ``f_A^n + concat_r f_R^r(n)`` (eq. 6). Memory grows with ``N_r * (H*W)^2`` for the relation
    weights and ``N_r * H*W * C`` for the per-head relation features.

    Args:
        channels: channels ``C`` of the appearance feature (1024 in the paper's 2fc head).
        num_heads: relation heads ``N_r`` (official: 16); divides ``channels`` and ``key_dim``.
        key_dim: total query/key dimension ``d_k * N_r`` (official: equal to the feature dimension, 1024);
            ``None`` uses ``channels``.
        pos_dim: dimension of the geometric embedding ``E_G``, a multiple of 8 (official: 64).
        wave_length: base of the sinusoid frequencies (official: 1000).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> relation = cvattn.create("relation-networks", channels=64, num_heads=16)
        >>> relation(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official module relates the region proposals of one image, ``(num_rois, C)`` features with their
        boxes; here the objects are the ``H*W`` pixels of each map, with unit boxes at their grid cells, so the
        width and height terms are zero and the geometric weight depends only on ``|dx|`` and ``|dy|`` (its
        embedding is computed separably per axis, which is exact because ``W_G`` is linear). All pixels are
        keys (the official ``nongt_dim`` slice of ground-truth boxes does not apply). The official code adds
        the relation feature in the surrounding network (``fc_new + attention``); here the residual of eq. 6 is
        part of the module.

    Reference:
        Hu, Gu, Zhang, Dai, Wei. Relation Networks for Object Detection. CVPR 2018.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 16,
        key_dim: int | None = None,
        pos_dim: int = 64,
        wave_length: float = 1000.0,
    ) -> None:
        super().__init__()
        key_dim = channels if key_dim is None else key_dim
        if channels <= 0 or num_heads <= 0 or key_dim <= 0:
            raise ValueError(
                f"channels, num_heads and key_dim must be positive, got {channels}, {num_heads}, {key_dim}"
            )
        if channels % num_heads or key_dim % num_heads:
            raise ValueError(
                f"channels ({channels}) and key_dim ({key_dim}) must be divisible by num_heads ({num_heads})"
            )
        if pos_dim <= 0 or pos_dim % 8:
            raise ValueError(f"pos_dim must be a positive multiple of 8, got {pos_dim}")
        if wave_length <= 0:
            raise ValueError(f"wave_length must be positive, got {wave_length}")
        self.channels, self.num_heads, self.key_dim = channels, num_heads, key_dim
        self.pos_dim, self.wave_length = pos_dim, float(wave_length)
        self.scale = 1.0 / math.sqrt(key_dim // num_heads)
        self.pos_fc = nn.Linear(pos_dim, num_heads)  # W_G (official: pair_pos_fc1)
        self.query = nn.Linear(channels, key_dim)  # W_Q
        self.key = nn.Linear(channels, key_dim)  # W_K
        self.linear_out = nn.Conv2d(
            num_heads * channels, channels, 1, groups=num_heads
        )  # W_V^r, one per head

    def _geometric_bias(self, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
        """``log(max(w_G, 1e-6))`` for every pixel pair: ``(N_r, H*W, H*W)``."""
        e, d = self.pos_dim // 4, self.pos_fc.weight.dtype
        wx, wy, ww, wh = self.pos_fc.weight.split(
            e, dim=1
        )  # the embedding holds (dx, dy, dw, dh) in this order
        rows = torch.arange(h, device=like.device, dtype=d)
        cols = torch.arange(w, device=like.device, dtype=d)
        dy = (rows[:, None] - rows[None, :]).abs().clamp(min=1e-3).log()  # unit boxes: divide by height 1
        dx = (cols[:, None] - cols[None, :]).abs().clamp(min=1e-3).log()
        zero = torch.zeros(1, device=like.device, dtype=d)  # log(w_m / w_n) = log(h_m / h_n) = 0
        gy = _sinusoid(dy, self.pos_dim, self.wave_length) @ wy.T  # (H, H, N_r)
        gx = _sinusoid(dx, self.pos_dim, self.wave_length) @ wx.T  # (W, W, N_r)
        g0 = _sinusoid(zero, self.pos_dim, self.wave_length) @ (ww + wh).T + self.pos_fc.bias
        z = gy[:, None, :, None] + gx[None, :, None, :] + g0  # (H, W, H, W, N_r): query (r, c), key (r', c')
        w_g = F.relu(z).reshape(h * w, h * w, self.num_heads).permute(2, 0, 1)
        return w_g.clamp(min=1e-6).log()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        r = self.num_heads
        f_a = to_tokens(x)  # (N, HW, C)
        q = self.query(f_a).reshape(n, h * w, r, -1).transpose(1, 2)  # (N, N_r, HW, d_k)
        k = self.key(f_a).reshape(n, h * w, r, -1).transpose(1, 2)
        v = f_a.unsqueeze(1).expand(n, r, h * w, c)  # values are the raw features
        bias = self._geometric_bias(h, w, x)  # (N_r, HW, HW)
        rel = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), scale=self.scale)
        rel = from_tokens(rel.transpose(1, 2).reshape(n, h * w, r * c), (h, w))  # (N, N_r * C, H, W)
        y = x + self.linear_out(rel)  # f_A + concat_r W_V^r f_R^r
        return match_memory_format(y, x)
