"""Aggregated attention of TransNeXt: foveal attention over a sliding window plus pooled global tokens.

Paper: "TransNeXt: Robust Foveal Visual Perception for Vision Transformers", Dai Shi, CVPR 2024,
https://openaccess.thecvf.com/content/CVPR2024/html/Shi_TransNeXt_Robust_Foveal_Visual_Perception_for_Vision_Transformers_CVPR_2024_paper.html
(arXiv:2311.17132). Official code: https://github.com/DaiShiResearch/TransNeXt
(``classification/attention_native.py``, ``AggregatedAttention``; positions from ``classification/transnext.py``,
``get_relative_position_cpb``).
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


def _pool_size(h: int, w: int, sr_ratio: int, pool_size: int | None) -> tuple[int, int]:
    if pool_size is not None:
        return pool_size, pool_size
    return max(h // sr_ratio, 1), max(w // sr_ratio, 1)


def _pooled_tokens(x: torch.Tensor, sr_ratio: int, pool_size: int | None) -> torch.Tensor:
    """Adaptive average pooling of the map to ``(H // sr, W // sr)`` (or the fixed pool size)."""
    return F.adaptive_avg_pool2d(x, _pool_size(x.shape[-2], x.shape[-1], sr_ratio, pool_size))


def _geometry(
    x: torch.Tensor, window: int, sr_ratio: int, pool_size: int | None, pretrain_size: tuple[int, int] | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """What depends on the map size only: the padding mask of each query's window ``(N, L)``, the length scale
    ``log(valid local keys + pooled keys)`` ``(N, 1)``, and the log-spaced relative coordinates of every
    (query, pooled key) pair as a table of unique rows with its index ``(N * P,)``. Computed in float32 as the
    official buffers are (once per map size), then cast to the input's dtype."""
    h, w = x.shape[-2:]
    mask, length_scale, table, index = _geometry_f32(h, w, window, sr_ratio, pool_size, pretrain_size)
    return mask.to(x.device), length_scale.to(x), table.to(x), index.to(x.device)


@functools.lru_cache(maxsize=32)
def _geometry_f32(
    h: int, w: int, window: int, sr_ratio: int, pool_size: int | None, pretrain_size: tuple[int, int] | None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    ph, pw = _pool_size(h, w, sr_ratio, pool_size)
    ones = torch.ones(1, 1, h, w)
    valid = F.unfold(ones, window, padding=window // 2)[0].transpose(0, 1)  # (N, L)
    padding_mask = valid == 0
    length_scale = torch.log(valid.sum(-1, keepdim=True) + ph * pw)
    # continuous relative positions between queries and the centres of the pooled cells, one axis at a time:
    # every (row offset, column offset) combination occurs, so the unique (row, column) pairs of the official
    # torch.unique(dim=0) over all N * P pairs are the product of the unique row and column offsets, in the
    # same (row-major, sorted) order, without building the N * P pairs
    pre_h, pre_w = pretrain_size or (h, w)

    def offsets(n: int, pooled: int, pre: int) -> tuple[torch.Tensor, torch.Tensor]:
        q = torch.arange(n, dtype=torch.float32)
        k = F.adaptive_avg_pool1d(q[None], pooled)[0]
        return torch.unique((q[:, None] - k[None, :]) / max(pre - 1, 1) * 8, return_inverse=True)

    rows, row_index = offsets(h, ph, pre_h)  # (U_h,), (H, P_h)
    cols, col_index = offsets(w, pw, pre_w)  # (U_w,), (W, P_w)
    table = torch.stack(torch.meshgrid(rows, cols, indexing="ij"), -1).view(-1, 2)  # (U_h * U_w, 2)
    table = torch.sign(table) * torch.log2(table.abs() + 1.0) / math.log2(8)
    # pair (query (i, j), key (a, b)) -> row_index[i, a] * U_w + col_index[j, b], in (i, j, a, b) order
    index = row_index[:, None, :, None] * len(cols) + col_index[None, :, None, :]
    return padding_mask, length_scale, table, index.reshape(-1)


# size-dependent pieces: leaves of the torch.fx trace, so the trace holds for every input size
fx.wrap("_pooled_tokens")
fx.wrap("_geometry")


@register("transnext", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=2, sr_ratio=4)
class AggregatedAttention(nn.Module):
    """TransNeXt aggregated attention: each query attends to its sliding window and to pooled tokens in one softmax.

    Queries and keys are L2-normalised per head (cosine attention); a learned query embedding is added to the
    queries, which are scaled by ``softplus(tau) * log(n_local + n_pool)`` (valid window keys plus pooled
    keys). Each query meets the keys of its ``k x k`` window (zero-padded, masked outside the map) with a
    learned bias per window offset, and ``P = (H/s)(W/s)`` pooled keys from ``LN(AvgPool(GELU(Conv1x1(x))))``
    with a continuous position bias, an MLP of log-spaced relative coordinates. One softmax runs over both
    sets: ``A = softmax([q_s K_win^T + B_win, q_s K_pool^T + B_pool])``. The window weights then get a
    query-dependent dynamic bias, ``q_n T + b`` (learnable tokens ``T``), before aggregating the window values:
    ``y = (A_win + q_n T + b) V_win + A_pool V_pool``, and a linear projection. Memory grows with
    ``H*W*(k^2 + H*W/s^2)`` per head.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads (TransNeXt-Micro stages: 2, 4, 8, 16).
        window_size: odd side ``k`` of each query's sliding window (3).
        sr_ratio: pooling ratio ``s`` (TransNeXt stages: 8, 4, 2; ignored with ``pool_size``).
        qkv_bias: bias in the query and key/value projections (TransNeXt models: True).
        pool_size: fixed side of the pooled grid instead of ``H / s`` (official ``fixed_pool_size``, None).
        pretrain_size: ``(H, W)`` that scales the relative coordinates; None uses the input's size, which is
            what the official model does when trained and run at one resolution.
        attn_drop: dropout on the attention weights (0).
        proj_drop: dropout after the projection (0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("transnext", channels=64, num_heads=2, sr_ratio=4)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes a ``(N, C, H, W)`` map of any size: the official class fixes ``input_resolution`` at
        construction (for the pool size, padding mask and length scale) and takes precomputed relative
        positions; here they are computed from the input, as ``get_relative_position_cpb`` does for
        ``img_size = pretrain_size``. The pooled grid has at least one cell and a one-pixel side scales the
        coordinates by 1 instead of dividing by zero. The softmax is explicit, since the window weights are
        changed after it (dynamic bias), which ``scaled_dot_product_attention`` cannot express.

    Reference:
        Shi. TransNeXt: Robust Foveal Visual Perception for Vision Transformers. CVPR 2024.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 2,
        window_size: int = 3,
        sr_ratio: int = 8,
        qkv_bias: bool = True,
        pool_size: int | None = None,
        pretrain_size: tuple[int, int] | None = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if channels < 1 or num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        if window_size < 1 or window_size % 2 == 0:
            raise ValueError(f"window_size must be odd, got {window_size}")
        if sr_ratio < 1 or (pool_size is not None and pool_size < 1):
            raise ValueError("sr_ratio and pool_size must be >= 1")
        self.channels, self.num_heads, self.head_dim = channels, num_heads, channels // num_heads
        self.window_size, self.local_len = window_size, window_size**2
        self.sr_ratio, self.pool_size, self.pretrain_size = sr_ratio, pool_size, pretrain_size
        # softplus(temperature) starts at 1 / 0.24
        self.temperature = nn.Parameter(torch.log(torch.expm1(torch.full((num_heads, 1, 1), 1 / 0.24))))
        self.q = nn.Linear(channels, channels, bias=qkv_bias)
        self.query_embedding = nn.Parameter(
            nn.init.trunc_normal_(torch.empty(num_heads, 1, self.head_dim), std=0.02)
        )
        self.kv = nn.Linear(channels, 2 * channels, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)
        self.sr = nn.Conv2d(channels, channels, 1)
        self.act = nn.GELU()
        self.norm = nn.LayerNorm(channels)
        self.cpb_fc1 = nn.Linear(2, 512)
        self.cpb_act = nn.ReLU()
        self.cpb_fc2 = nn.Linear(512, num_heads)
        self.relative_pos_bias_local = nn.Parameter(
            nn.init.trunc_normal_(torch.empty(num_heads, self.local_len), std=0.0004)
        )
        self.learnable_tokens = nn.Parameter(
            nn.init.trunc_normal_(torch.empty(num_heads, self.head_dim, self.local_len), std=0.02)
        )
        self.learnable_bias = nn.Parameter(torch.zeros(num_heads, 1, self.local_len))

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        """``(B, L, C)`` to ``(B, h, L, d)``."""
        return t.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)

    def _window(self, t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """``(B, N, C)`` tokens to each query's zero-padded ``k x k`` window: ``(B, h, N, d, L)``."""
        b, n = t.shape[0], t.shape[1]
        cols = F.unfold(from_tokens(t, size), self.window_size, padding=self.window_size // 2)  # (B, C L, N)
        return cols.reshape(b, self.num_heads, self.head_dim, self.local_len, n).permute(0, 1, 4, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        b, c, h, w = x.shape
        mask, length_scale, table, index = _geometry(
            x, self.window_size, self.sr_ratio, self.pool_size, self.pretrain_size
        )
        t = to_tokens(x)  # (B, N, C)
        q_n = F.normalize(self._heads(self.q(t)), dim=-1)  # (B, h, N, d)
        q_s = (q_n + self.query_embedding) * F.softplus(self.temperature) * length_scale
        k, v = self.kv(t).chunk(2, dim=-1)
        k = F.normalize(k.unflatten(-1, (self.num_heads, self.head_dim)), dim=-1).flatten(-2)
        k_win, v_win = self._window(k, (h, w)), self._window(v, (h, w))  # (B, h, N, d, L)
        logits_win = torch.einsum("bhnd,bhndl->bhnl", q_s, k_win) + self.relative_pos_bias_local[:, None]
        logits_win = logits_win.masked_fill(mask, float("-inf"))
        # pooled keys and values, with a continuous position bias from an MLP of the relative coordinates
        pooled = self.norm(to_tokens(_pooled_tokens(self.act(self.sr(x)), self.sr_ratio, self.pool_size)))
        kv_pool = self.kv(pooled)  # (B, P, 2C)
        k_pool, v_pool = self._heads(kv_pool[..., :c]), self._heads(kv_pool[..., c:])  # (B, h, P, d)
        bias_pool = self.cpb_fc2(self.cpb_act(self.cpb_fc1(table))).transpose(0, 1)[:, index]  # (h, N P)
        logits_pool = q_s @ F.normalize(k_pool, dim=-1).transpose(-2, -1)  # (B, h, N, P)
        logits_pool = logits_pool + bias_pool.view(self.num_heads, h * w, -1)
        attn = self.attn_drop(torch.cat((logits_win, logits_pool), dim=-1).softmax(dim=-1))
        a_win, a_pool = attn[..., : self.local_len], attn[..., self.local_len :]
        a_win = a_win + q_n @ self.learnable_tokens + self.learnable_bias  # dynamic local bias
        y = torch.einsum("bhnl,bhndl->bhnd", a_win, v_win) + a_pool @ v_pool  # (B, h, N, d)
        y = self.proj_drop(self.proj(y.transpose(1, 2).reshape(b, h * w, c)))
        return match_memory_format(from_tokens(y, (h, w)), x)
