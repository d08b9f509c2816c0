"""Agent attention: softmax attention routed through a few pooled agent tokens.

Paper: "Agent Attention: On the Integration of Softmax and Linear Attention", Dongchen Han, Tianzhu Ye, Yizeng Han,
Zhuofan Xia, Siyuan Pan, Pengfei Wan, Shiji Song, Gao Huang, ECCV 2024, https://arxiv.org/abs/2312.08874.
Official code: https://github.com/LeapLabTHU/Agent-Attention (``downstream/detection/mmdet/models/backbones/
agent_swin.py``, ``AgentAttention``: the any-resolution form of ``agent_transformer/models/agent_swin.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


@register(
    "agent-attention",
    kind="attention",
    inputs=(64, 14, 14),
    channels=64,
    num_heads=4,
    resolution=(14, 14),
    agent_num=49,
)
class AgentAttention(nn.Module):
    """Agent attention: agents pooled from the queries gather from the keys, then broadcast to the queries.

    With queries, keys and values ``Q, K, V`` (one linear layer), ``n`` agent tokens ``A`` are the queries
    average-pooled to an ``a_h x a_w`` grid. Agent aggregation ``V_A = softmax(A K^T / sqrt(d) + B_1) V`` is
    followed by agent broadcast ``O = softmax(Q A^T / sqrt(d) + B_2) V_A``, and a depthwise convolution of
    ``V`` restores feature diversity: ``Y = proj(O + DWC(V))``. The agent biases ``B_1`` (agents x pixels) and
    ``B_2`` (pixels x agents) are each the sum of a ``7 x 7`` block bias and a row plus a column bias learnt at
    ``resolution``, resized bilinearly to the input's ``H x W`` and, when the agent grid differs from
    ``sqrt(n) x sqrt(n)``, to the agent grid (at ``H x W = resolution`` with that grid every resize is the identity
    and this is the classification form of ``agent_transformer/models/agent_swin.py``). Both attentions run
    over ``n`` tokens, so the whole is linear in the number of pixels. Memory grows with ``H*W*n`` per head.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (default 8 as the official Agent-PVT attention; Agent-Swin-T stages: 3, 6, 12,
            24).
        resolution: ``(H, W)`` at which the row and column biases are learnt (official ``input_resolution``,
            no default: the classification resolution of the stage, 56, 28, 14, 7 for Agent-Swin at 224 px);
            other sizes resize them.
        agent_num: agent tokens ``n`` the biases are learnt for, a square (official default 49; Agent-Swin-T
            stages: 9, 16, 49, 49).
        agent_shape: grid ``(a_h, a_w)`` the queries are pooled to (official ``downstream_agent_shape``; None:
            ``sqrt(n) x sqrt(n)``, as in classification).
        qkv_bias: bias in the query/key/value projection (official default True).
        kernel_size: kernel of the depthwise convolution on ``V`` (official default 3).
        attn_drop: dropout on both attention maps.
        proj_drop: dropout after the output projection.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("agent-attention", channels=64, num_heads=4, resolution=14, agent_num=49)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, HW, C)`` tokens plus ``hw_shape``. The two
        parts of each bias are added before the agent-grid resize rather than after (the resize is linear).

    Reference:
        Han, Ye, Han, Xia, Pan, Wan, Song, Huang. Agent Attention: On the Integration of Softmax and Linear
        Attention. ECCV 2024.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        resolution: int | tuple[int, int] = 14,
        agent_num: int = 49,
        agent_shape: int | tuple[int, int] | None = None,
        qkv_bias: bool = True,
        kernel_size: int = 3,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        pool = round(agent_num**0.5)
        if agent_num < 1 or pool * pool != agent_num:
            raise ValueError(f"agent_num ({agent_num}) must be a positive square (9, 16, 49, ...)")
        res = _pair(resolution)
        shape = (pool, pool) if agent_shape is None else _pair(agent_shape)
        if min(res) < 1 or min(shape) < 1 or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"bad resolution {res}, agent_shape {shape} or kernel_size {kernel_size} (odd)")
        self.channels, self.num_heads, self.agent_num = channels, num_heads, agent_num
        self.resolution, self.pool_size, self.agent_shape = res, pool, shape
        self.scale = (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)
        self.dwc = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)
        self.pool = nn.AdaptiveAvgPool2d(shape)
        h, n = num_heads, agent_num
        self.an_bias = nn.Parameter(torch.empty(h, n, 7, 7))  # agent -> pixel, block part
        self.na_bias = nn.Parameter(torch.empty(h, n, 7, 7))  # pixel -> agent, block part
        self.ah_bias = nn.Parameter(torch.empty(1, h, n, res[0], 1))  # agent -> pixel row
        self.aw_bias = nn.Parameter(torch.empty(1, h, n, 1, res[1]))  # agent -> pixel column
        self.ha_bias = nn.Parameter(torch.empty(1, h, res[0], 1, n))  # pixel row -> agent
        self.wa_bias = nn.Parameter(torch.empty(1, h, 1, res[1], n))  # pixel column -> agent
        for p in (self.an_bias, self.na_bias, self.ah_bias, self.aw_bias, self.ha_bias, self.wa_bias):
            nn.init.trunc_normal_(p, std=0.02)

    def _bias(self, block: torch.Tensor, rows_cols: torch.Tensor, h: int, w: int) -> torch.Tensor:
        """A bias ``(heads, n, a, b)`` (block) plus one ``(heads, n, R0, R1)`` resized to ``(heads, H*W, n')``."""
        size = (h, w)
        b = F.interpolate(block, size=size, mode="bilinear") + F.interpolate(
            rows_cols, size=size, mode="bilinear"
        )
        b = b.reshape(self.num_heads, self.pool_size, self.pool_size, h * w).permute(
            0, 3, 1, 2
        )  # (h, HW, p, p)
        if self.agent_shape != (self.pool_size, self.pool_size):
            b = F.interpolate(b, size=self.agent_shape, mode="bilinear")  # (h, HW, a_h, a_w)
        return b.flatten(2)  # (heads, HW, n')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        heads = self.num_heads
        q, k, v = self.qkv(to_tokens(x)).chunk(3, dim=-1)  # 3 x (N, HW, C)
        agents = to_tokens(self.pool(from_tokens(q, (h, w))))  # A: (N, n', C)

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.unflatten(-1, (heads, c // heads)).transpose(1, 2)  # (N, heads, L, d)

        b1 = self._bias(self.an_bias, (self.ah_bias + self.aw_bias).squeeze(0), h, w).transpose(1, 2)
        b2 = self._bias(self.na_bias, (self.ha_bias + self.wa_bias).squeeze(0).permute(0, 3, 1, 2), h, w)
        drop = self.attn_drop if self.training else 0.0
        a, vh = split(agents), split(v)
        agent_v = F.scaled_dot_product_attention(
            a, split(k), vh, attn_mask=b1, dropout_p=drop, scale=self.scale
        )
        o = F.scaled_dot_product_attention(
            split(q), a, agent_v, attn_mask=b2, dropout_p=drop, scale=self.scale
        )
        o = o.transpose(1, 2).flatten(2)  # (N, HW, C)
        y = o + to_tokens(self.dwc(from_tokens(v, (h, w))))  # O + DWC(V)
        y = self.proj_drop(self.proj(y))
        return match_memory_format(from_tokens(y, (h, w)), x)
