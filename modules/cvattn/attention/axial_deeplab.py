"""Position-sensitive axial attention of Axial-DeepLab.

Paper: "Axial-DeepLab: Stand-Alone Axial-Attention for Panoptic Segmentation", Huiyu Wang, Yukun Zhu, Bradley
Green, Hartwig Adam, Alan Yuille, Liang-Chieh Chen, ECCV 2020, https://arxiv.org/abs/2003.07853. Official code
(TensorFlow 2): https://github.com/google-research/deeplab2 (``g3doc/projects/axial_deeplab.md``); the PyTorch
re-implementation linked from the paper: https://github.com/csrhddlam/axial-deeplab
(``lib/models/axialnet.py``, ``AxialAttention``), which this module follows.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input


class _AxialAttention1d(nn.Module):
    """Position-sensitive self-attention along one axis (H, or W when ``along_width``), global over it."""

    def __init__(self, channels: int, groups: int, kernel_size: int, along_width: bool) -> None:
        super().__init__()
        self.groups, self.group_channels = groups, channels // groups
        self.kernel_size, self.along_width = kernel_size, along_width
        self.qkv_transform = nn.Conv1d(channels, 2 * channels, 1, bias=False)
        self.bn_qkv = nn.BatchNorm1d(2 * channels)
        self.bn_similarity = nn.BatchNorm2d(3 * groups)
        self.bn_output = nn.BatchNorm1d(2 * channels)
        # relative embeddings r^q, r^k, r^v for offsets -(K-1) .. K-1
        self.relative = nn.Parameter(torch.randn(2 * self.group_channels, 2 * kernel_size - 1))
        offset = torch.arange(kernel_size)[:, None] - torch.arange(kernel_size)[None, :]  # i - j
        self.register_buffer("relative_index", offset + kernel_size - 1, persistent=False)
        nn.init.normal_(self.qkv_transform.weight, 0.0, channels**-0.5)
        nn.init.normal_(self.relative, 0.0, self.group_channels**-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.size(0), x.size(1), x.size(2), x.size(3)
        g, d = self.groups, self.group_channels
        # one sequence per column (height attention) or per row (width attention): (B, C, L)
        seq = x.permute(0, 2, 1, 3) if self.along_width else x.permute(0, 3, 1, 2)  # (N, H|W, C, W|H)
        other, length = (h, w) if self.along_width else (w, h)
        seq = seq.reshape(n * other, c, length)
        qkv = self.bn_qkv(self.qkv_transform(seq)).view(n * other, g, 2 * d, length)
        q, k, v = torch.split(qkv, [d // 2, d // 2, d], dim=2)
        index = self.relative_index.narrow(0, 0, length).narrow(1, 0, length)  # top-left L x L
        r_q, r_k, r_v = torch.split(self.relative[:, index], [d // 2, d // 2, d], dim=0)  # (., L, L)
        qk = torch.einsum("bgci,bgcj->bgij", q, k)
        qr = torch.einsum("bgci,cij->bgij", q, r_q)  # q_i . r^q_{i-j}
        kr = torch.einsum("bgcj,cji->bgij", k, r_k)  # k_j . r^k_{j-i}
        logits = self.bn_similarity(torch.cat([qk, qr, kr], dim=1))
        logits = logits.view(n * other, 3, g, length, length).sum(dim=1)
        attn = F.softmax(logits, dim=3)
        sv = torch.einsum("bgij,bgcj->bgci", attn, v)
        sve = torch.einsum("bgij,cij->bgci", attn, r_v)  # sum_j a_ij r^v_{i-j}
        out = self.bn_output(torch.cat([sv, sve], dim=-1).reshape(n * other, 2 * c, length))
        out = out.view(n, other, c, 2, length).sum(dim=3)  # (N, H|W, C, W|H)
        out = out.permute(0, 2, 1, 3) if self.along_width else out.permute(0, 2, 3, 1)
        return out.contiguous()


@register("axial-deeplab", kind="attention", inputs=(64, 14, 14), channels=64)
class AxialAttention(nn.Module):
    """Axial-DeepLab position-sensitive axial attention: global self-attention along H, then along W.

    Each 1D layer splits ``C`` into ``g`` groups; per group, with queries, keys and values from one
    1x1 projection with BatchNorm and learned relative embeddings ``r^q, r^k, r^v``, position ``i`` of a
    column (or row) attends to every position ``j`` of it:
    ``y_i = sum_j softmax_j(BN(q_i.k_j) + BN(q_i.r^q_{i-j}) + BN(k_j.r^k_{j-i})) (v_j, r^v_{i-j})``, the
    two outputs being batch-normalised and summed. The height layer runs first, the width layer on its
    output. Memory grows with ``H*W*(H+W)`` per group (one ``L x L`` map per row and column).

    Args:
        channels: channels ``C`` (divisible by ``groups``; ``C / groups`` divisible by 2).
        groups: attention heads ``g`` (official: 8).
        kernel_size: span ``K`` of the relative embeddings, the largest axis length accepted (official:
            56, the stage-1 size of a 224 x 224 image).

    Shape:
        - Input: ``(N, C, H, W)`` with ``H, W <= kernel_size``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> axial = cvattn.create("axial-deeplab", channels=64)
        >>> axial(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Follows the authors' PyTorch re-implementation, not the TensorFlow code of DeepLab2. The PyTorch
        layer needs every axis to be exactly ``kernel_size`` long; here axes up to ``kernel_size`` are
        accepted, using the relative embeddings of the offsets that occur (the top-left ``L x L`` block of
        the ``K x K`` index), so the layers agree exactly when ``H = W = kernel_size``. The layers of
        the official ``AxialBlock`` around the attention (1x1 convolutions, the residual) and the
        stride-2 average pooling of its width layer are not part of this module. The attention logits
        pass a BatchNorm before the softmax, so ``scaled_dot_product_attention`` cannot compute them.

    Reference:
        Wang, Zhu, Green, Adam, Yuille, Chen. Axial-DeepLab: Stand-Alone Axial-Attention for Panoptic
        Segmentation. ECCV 2020.
    """

    def __init__(self, channels: int, groups: int = 8, kernel_size: int = 56) -> None:
        super().__init__()
        if groups < 1 or channels % groups or (channels // groups) % 2:
            raise ValueError(
                f"channels ({channels}) must be a positive multiple of groups ({groups}) with an even number "
                "of channels per group"
            )
        if kernel_size < 1:
            raise ValueError(f"kernel_size must be positive, got {kernel_size}")
        self.channels, self.kernel_size = channels, kernel_size
        self.height_block = _AxialAttention1d(channels, groups, kernel_size, along_width=False)
        self.width_block = _AxialAttention1d(channels, groups, kernel_size, along_width=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if not isinstance(x, fx.Proxy) and max(x.shape[-2:]) > self.kernel_size:
            raise ValueError(
                f"expected H and W <= kernel_size ({self.kernel_size}), got {tuple(x.shape[-2:])}"
            )
        return self.width_block(self.height_block(x))
