"""Point-wise spatial attention (PSA) of PSANet.

Paper: "PSANet: Point-wise Spatial Attention Network for Scene Parsing", Hengshuang Zhao, Yi Zhang, Shu Liu,
Jianping Shi, Chen Change Loy, Dahua Lin, Jiaya Jia, ECCV 2018,
https://ecva.net/papers/eccv_2018/papers_ECCV/html/Hengshuang_Zhao_PSANet_Point-wise_Spatial_ECCV_2018_paper.php.
Official code: https://github.com/hszhao/PSANet (Caffe); the authors' PyTorch port is
https://github.com/hszhao/semseg (``model/psanet.py``, ``PSA``, with the ``lib/psa`` PSAMask operator).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import ConvNormAct, check_input, match_memory_format
from ..tokens import from_tokens, to_tokens

PSA_TYPES = {0: "collect", 1: "distribute", 2: "bi-directional"}


@fx.wrap
def _psa_mask(y: torch.Tensor, distribute: bool, mask_h: int, mask_w: int) -> torch.Tensor:
    """Over-complete ``(N, mask_h*mask_w, H, W)`` maps to the ``(N, HW_j, HW_i)`` weights of source ``j`` for target ``i``.

    Channel ``(a, b)`` of the map at centre ``p`` belongs to the position ``p + (a - mask_h // 2, b - mask_w // 2)``;
    pairs outside the ``mask_h x mask_w`` window get 0 (as the official PSAMask operator leaves them).
    """
    n, m, h, w = y.shape
    rows = torch.arange(h, device=y.device).repeat_interleave(w)  # row of each flattened position
    cols = torch.arange(w, device=y.device).repeat(h)
    dh = rows[:, None] - rows[None, :] + mask_h // 2  # (HW_a, HW_b): offset of a seen from centre b
    dw = cols[:, None] - cols[None, :] + mask_w // 2
    inside = (dh >= 0) & (dh < mask_h) & (dw >= 0) & (dw < mask_w)
    index = torch.where(inside, dh * mask_w + dw, m)  # channel m is the zero padding
    y = torch.cat([y.flatten(2), y.new_zeros(n, 1, h * w)], 1)  # (N, M + 1, HW)
    weights = torch.gather(y, 1, index.expand(n, -1, -1))  # [a, b] = map of centre b at a
    # collect: the centre is the target i (rows are sources j); distribute: the centre is the source j
    return weights.transpose(1, 2) if distribute else weights


class _PSABranch(nn.Module):
    """Reduction ``1x1 conv-BN-ReLU`` and the attention head that predicts an over-complete map per position."""

    def __init__(self, channels: int, mid_channels: int, mask_size: int) -> None:
        super().__init__()
        self.reduce = ConvNormAct(channels, mid_channels, 1)
        self.attention = nn.Sequential(
            ConvNormAct(mid_channels, mid_channels, 1), nn.Conv2d(mid_channels, mask_size, 1, bias=False)
        )


@register("psanet", kind="attention", inputs=(64, 13, 13), channels=64, mid_channels=16, mask_h=13, mask_w=17)
class PointwiseSpatialAttention(nn.Module):
    """PSANet's point-wise spatial attention: every position collects from and distributes to all others.

    The input is reduced to ``mid_channels`` by a 1x1 conv-BN-ReLU and shrunk by ``s = shrink_factor`` to
    ``H' = (H - 1) // s + 1`` by bilinear interpolation (corners aligned). For each position ``i`` a 1x1
    conv-BN-ReLU-conv head predicts an over-complete ``mask_h x mask_w`` map ``h_i`` centred on ``i`` (the
    paper's ``(2H'-1) x (2W'-1)``, covering the whole map from any centre). In the *collect* branch it holds
    how much ``i`` gathers from ``j``: ``z_i = 1/N sum_j softmax_j(h^c_i[j - i]) x_j``; in the *distribute*
    branch ``h^d_j[i - j]`` is how much ``j`` sends to ``i``: ``z_i = 1/N sum_j softmax_j(h^d_j[i - j]) x_j``
    (``N`` = ``normalization_factor``; pairs outside the window get logit 0). The two results are
    concatenated, projected back to ``channels`` by a 1x1 conv-BN-ReLU and upsampled to ``H x W``. Memory
    grows with ``(H*W)^2 / s^4`` per branch (one weight per pair of positions of the shrunk map).

    Args:
        channels: input and output channels ``C`` (PSANet: 2048).
        mid_channels: reduced channels of each branch (official default 512).
        psa_type: 0 collect only, 1 distribute only, 2 both (bi-directional; official default 2).
        shrink_factor: spatial shrink ``s`` before the attention (official default 2).
        mask_h: height of the over-complete map; odd (official default 59, i.e. ``2H'-1`` for a 465 crop).
        mask_w: width of the over-complete map; odd (official default 59).
        normalization_factor: ``N`` dividing the aggregated features; ``None`` uses ``mask_h * mask_w``
            (official default 1.0).
        psa_softmax: normalise the attention over sources ``j`` with a softmax (official default True).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> psa = cvattn.create("psanet", channels=64, mid_channels=16, mask_h=13, mask_w=17)
        >>> psa(torch.randn(2, 64, 13, 17)).shape
        torch.Size([2, 64, 13, 17])

    Deviations:
        The official ``PSA`` returns ``cat(x, psa(x))`` with ``2C`` channels; this module returns the attention
        branch ``psa(x)`` only, so that it keeps the input's shape (concatenate it yourself for PSANet's head).
        The official code upsamples to ``(H' - 1) * s + 1``, which equals ``H`` only when ``(H - 1) % s == 0``
        (its concatenation fails otherwise); this module upsamples to ``H x W`` for every size. The official
        ``compact`` mode (a non-relative ``H'W' x H'W'`` map) is not provided. The attention is a predicted
        softmax over positions, not a query-key product, so it is computed with a softmax and a matrix
        product rather than ``scaled_dot_product_attention``.

    Reference:
        Zhao, Zhang, Liu, Shi, Loy, Lin, Jia. PSANet: Point-wise Spatial Attention Network for Scene Parsing.
        ECCV 2018.
    """

    def __init__(
        self,
        channels: int,
        mid_channels: int = 512,
        psa_type: int = 2,
        shrink_factor: int = 2,
        mask_h: int = 59,
        mask_w: int = 59,
        normalization_factor: float | None = 1.0,
        psa_softmax: bool = True,
    ) -> None:
        super().__init__()
        if psa_type not in PSA_TYPES:
            raise ValueError(f"psa_type must be 0 (collect), 1 (distribute) or 2 (both), got {psa_type!r}")
        if mask_h < 1 or mask_w < 1 or mask_h % 2 == 0 or mask_w % 2 == 0:
            raise ValueError(f"mask_h and mask_w must be odd and positive, got {mask_h} x {mask_w}")
        if shrink_factor < 1:
            raise ValueError(f"shrink_factor must be a positive integer, got {shrink_factor}")
        self.channels, self.psa_type, self.shrink_factor = channels, psa_type, shrink_factor
        self.mask_h, self.mask_w, self.psa_softmax = mask_h, mask_w, psa_softmax
        self.normalization_factor = mask_h * mask_w if normalization_factor is None else normalization_factor
        branches = (0, 1) if psa_type == 2 else (psa_type,)
        self.directions = tuple(PSA_TYPES[b] for b in branches)
        for name in self.directions:
            self.add_module(name, _PSABranch(channels, mid_channels, mask_h * mask_w))
        self.proj = ConvNormAct(mid_channels * len(branches), channels, 1)

    def _aggregate(self, branch: _PSABranch, x: torch.Tensor, size: tuple, distribute: bool) -> torch.Tensor:
        x = branch.reduce(x)
        if self.shrink_factor != 1:
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=True)
        h = _psa_mask(branch.attention(x), distribute, self.mask_h, self.mask_w)  # (N, HW_j, HW_i)
        attn = h.softmax(dim=1) if self.psa_softmax else h
        z = attn.transpose(1, 2) @ to_tokens(x)  # (N, HW_i, C'): z_i = sum_j attn[j, i] x_j
        return from_tokens(z, size) * (1.0 / self.normalization_factor)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        height, width = x.shape[-2], x.shape[-1]
        s = self.shrink_factor
        size = ((height - 1) // s + 1, (width - 1) // s + 1)  # H' x W' of the official code
        z = torch.cat(
            [self._aggregate(getattr(self, d), x, size, d == "distribute") for d in self.directions], 1
        )
        out = self.proj(z)
        if s != 1:
            out = F.interpolate(out, size=(height, width), mode="bilinear", align_corners=True)
        return match_memory_format(out, x)
