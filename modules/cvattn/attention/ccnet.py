"""Criss-cross attention.

Paper: "CCNet: Criss-Cross Attention for Semantic Segmentation", Zilong Huang, Xinggang Wang, Lichao Huang,
Chang Huang, Yunchao Wei, Wenyu Liu, ICCV 2019, https://arxiv.org/abs/1811.11721.
Official code: https://github.com/speedinghzl/CCNet (``cc_attention/functions.py``, pure-PyTorch version in
the ``pure-python`` branch).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format


@register("ccnet", kind="attention", inputs=(64, 14, 14), channels=64)
class CrissCrossAttention(nn.Module):
    """Recurrent criss-cross attention (RCCA): each position attends to the positions in its row and column;
    applied ``recurrence`` times (2 in the paper), so information reaches every position.

    ``Q, K = W_q x, W_k x`` (1x1 convs to ``C/8``) and ``V = W_v x``. For position ``u`` the energies with
    the ``H + W - 1`` positions of its row and column (``u`` itself counted once) go through one softmax;
    the output is ``gamma * sum A V + x``. The same weights are used in every recurrence. Memory grows with
    ``H*W*(H+W)`` rather than ``(H*W)^2``.

    Args:
        channels: input channels ``C``.
        recurrence: number of criss-cross passes ``R`` (2).
        reduction: query/key width ``C / reduction`` (8).
        zero_init: start ``gamma`` at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cca = cvattn.create("ccnet", channels=64)
        >>> cca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Vectorised PyTorch (einsum) instead of the official CUDA kernel, same math. ``gamma`` starts at 0.1
        unless ``zero_init`` (at 0 no gradient reaches the projections at the first step).

    Reference:
        Huang et al. CCNet: Criss-Cross Attention for Semantic Segmentation. ICCV 2019.
    """

    def __init__(
        self, channels: int, recurrence: int = 2, reduction: int = 8, zero_init: bool = False
    ) -> None:
        super().__init__()
        self.channels, self.recurrence = channels, recurrence
        self.query = nn.Conv2d(channels, max(1, channels // reduction), 1)
        self.key = nn.Conv2d(channels, max(1, channels // reduction), 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1) if zero_init else torch.full((1,), 0.1))

    @staticmethod
    def attention(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        """Criss-cross weights of every position from queries and keys ``(N, C', H, W)``: ``(N, H, W, H + W)``,
        the ``H`` positions of its column first, then the ``W`` of its row (itself counted in the row only)."""
        n, ck, h, w = q.shape
        # energies along each column: for every (n, j), (H, C') x (C', H)
        q_col = q.permute(0, 3, 2, 1).reshape(n * w, h, ck)
        k_col = k.permute(0, 3, 1, 2).reshape(n * w, ck, h)
        e_h = torch.bmm(q_col, k_col).view(n, w, h, h).permute(0, 2, 1, 3)  # (N, H, W, H)
        self_mask = torch.eye(h, dtype=torch.bool, device=q.device)[:, None, :]  # u itself: in the row only
        e_h = e_h.masked_fill(self_mask, float("-inf"))
        # energies along each row: for every (n, i), (W, C') x (C', W)
        q_row = q.permute(0, 2, 3, 1).reshape(n * h, w, ck)
        k_row = k.permute(0, 2, 1, 3).reshape(n * h, ck, w)
        e_w = torch.bmm(q_row, k_row).view(n, h, w, w)  # (N, H, W, W)
        return torch.softmax(torch.cat([e_h, e_w], -1), -1)  # one softmax over H + W

    def criss_cross(self, x: torch.Tensor) -> torch.Tensor:
        """One criss-cross pass, as batched matrix products over the columns and over the rows."""
        v = self.value(x)
        n, c, h, w = v.shape
        a = self.attention(self.query(x), self.key(x))
        a_h, a_w = a[..., :h], a[..., h:]
        # aggregate values: column part (C, H_g) x (H_g, H_i) per (n, j), row part (C, W_g) x (W_g, W_j) per (n, i)
        v_col = v.permute(0, 3, 1, 2).reshape(n * w, c, h)
        out_h = (
            torch.bmm(v_col, a_h.permute(0, 2, 3, 1).reshape(n * w, h, h))
            .view(n, w, c, h)
            .permute(0, 2, 3, 1)
        )
        v_row = v.permute(0, 2, 1, 3).reshape(n * h, c, w)
        out_w = (
            torch.bmm(v_row, a_w.permute(0, 1, 3, 2).reshape(n * h, w, w))
            .view(n, h, c, w)
            .permute(0, 2, 1, 3)
        )
        return self.gamma * match_memory_format(out_h + out_w, x) + x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        for _ in range(self.recurrence):
            x = self.criss_cross(x)
        return x
