"""Global self-attention (GSA): content attention plus axial relative positional attention.

Paper: "Global Self-Attention Networks for Image Recognition", Zhuoran Shen, Irwan Bello, Raviteja Vemulapalli,
Xuhui Jia, Ching-Hui Chen, arXiv 2020, https://arxiv.org/abs/2010.03019. No official code was released; the
paper's Sec. 3 and Appendix B are the reference (lucidrains/global-self-attention-network was read for
comparison).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import LayerType, check_input


@fx.wrap
def _relative_table(emb: torch.Tensor, length: int, max_offset: int) -> torch.Tensor:
    """``(L, L, d)``: entry ``[a, i]`` is ``r[i - a]`` when ``|i - a| < max_offset``, else zero."""
    pos = torch.arange(length, device=emb.device)
    offset = pos.unsqueeze(0) - pos.unsqueeze(1)  # i - a
    inside = offset.abs() < max_offset
    table = emb[(offset + max_offset - 1).clamp(0, 2 * max_offset - 2)]
    return table * inside.unsqueeze(-1).to(emb.dtype)


@register("gsa", kind="block", inputs=(64, 14, 14), in_channels=64, out_channels=64)
class GlobalSelfAttention(nn.Module):
    """GSA module: global content attention plus column-then-row relative positional attention.

    Per head, with ``Q, K, V`` from one bias-free 1x1 convolution: content attention
    ``F^c = V rho(K)^T Q`` where ``rho`` is a softmax over the ``H*W`` positions (a ``d_k x d_v``
    global context, linear in ``H*W``). Positional attention: along each column,
    ``Y_ab = sum_i (q_ab . r^col_{i-a}) v_ib``, batch-normalised, then along each row
    ``F^p_ab = sum_j (q_ab . r^row_{j-b}) Y_aj``, with learned relative embeddings for offsets
    ``|offset| < L`` (no softmax: the relative logits weight the values directly). Output
    ``F^c + F^p``. Memory grows with ``H*W*(H + W)`` for the axial weights.

    Args:
        in_channels: input channels.
        out_channels: output channels (the value depth, split across the heads).
        key_channels: query/key depth over all heads (default ``out_channels``).
        num_heads: number of heads (paper: 8).
        rel_length: ``L``, the relative embeddings cover offsets ``-(L-1) .. L-1``; maps larger than
            ``L`` attend only within that span along columns and rows.
        norm_layer: normalisation of the column output (BatchNorm2d, per head channel).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gsa = cvattn.create("gsa", in_channels=64, out_channels=64)
        >>> gsa(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        No output projection after the sum (the paper's module output is ``F^c + F^p``; lucidrains adds
        a 1x1 convolution). Default ``L = 32`` spans whole columns and rows of maps up to 32 pixels.

    Reference:
        Shen, Bello, Vemulapalli, Jia, Chen. Global Self-Attention Networks for Image Recognition. arXiv 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        key_channels: int | None = None,
        num_heads: int = 8,
        rel_length: int = 32,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        dk = key_channels or out_channels
        if dk % num_heads or out_channels % num_heads:
            raise ValueError(
                f"key_channels ({dk}) and out_channels ({out_channels}) must divide by num_heads"
            )
        self.in_channels, self.out_channels, self.key_channels = in_channels, out_channels, dk
        self.num_heads, self.rel_length = num_heads, rel_length
        self.qkv = nn.Conv2d(in_channels, 2 * dk + out_channels, 1, bias=False)
        dkh = dk // num_heads
        self.rel_col = nn.Parameter(
            torch.randn(2 * rel_length - 1, dkh) * dkh**-0.5
        )  # r^col, offsets along H
        self.rel_row = nn.Parameter(
            torch.randn(2 * rel_length - 1, dkh) * dkh**-0.5
        )  # r^row, offsets along W
        self.norm = norm_layer(out_channels // num_heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        n, h, w, nh = x.size(0), x.shape[2], x.shape[3], self.num_heads
        q, k, v = self.qkv(x).split([self.key_channels, self.key_channels, self.out_channels], dim=1)
        q = q.reshape(n * nh, -1, h, w)  # (N*Nh, dk, H, W)
        k = k.reshape(n * nh, self.key_channels // nh, -1)  # (N*Nh, dk, HW)
        v = v.reshape(n * nh, -1, h, w)  # (N*Nh, dv, H, W)
        # content attention: global context rho(K) V^T, read by every query
        context = torch.bmm(k.softmax(dim=-1), v.flatten(2).transpose(1, 2))  # (N*Nh, dk, dv)
        f_c = torch.bmm(context.transpose(1, 2), q.flatten(2)).reshape(v.shape)  # (N*Nh, dv, H, W)
        # positional attention: along columns, then along rows
        r_col = _relative_table(self.rel_col, h, self.rel_length).to(q.dtype)  # (H_a, H_i, dk)
        s_col = torch.einsum("ndab,aid->niab", q, r_col)  # q_ab . r_{i-a}: (N*Nh, H_i, H, W)
        y = self.norm(torch.einsum("niab,neib->neab", s_col, v))  # (N*Nh, dv, H, W)
        r_row = _relative_table(self.rel_row, w, self.rel_length).to(q.dtype)  # (W_b, W_j, dk)
        s_row = torch.einsum("ndab,bjd->njab", q, r_row)  # q_ab . r_{j-b}: (N*Nh, W_j, H, W)
        f_p = torch.einsum("njab,neaj->neab", s_row, y)
        return (f_c + f_p).reshape(n, self.out_channels, h, w)
