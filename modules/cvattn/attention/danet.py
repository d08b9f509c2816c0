"""Position and channel attention modules of DANet.

Paper: "Dual Attention Network for Scene Segmentation", Jun Fu, Jing Liu, Haijie Tian, Yong Li, Yongjun Bao,
Zhiwei Fang, Hanqing Lu, CVPR 2019, https://arxiv.org/abs/1809.02983.
Official code: https://github.com/junfu1115/DANet (``encoding/nn/da_att.py``: ``PAM_Module``, ``CAM_Module``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input, match_memory_format


def _gamma(zero_init: bool) -> nn.Parameter:
    return nn.Parameter(torch.zeros(1) if zero_init else torch.full((1,), 0.1))


@register("danet-pam", kind="attention", inputs=(64, 14, 14), channels=64)
class PositionAttention(nn.Module):
    """DANet position attention: every position aggregates all positions, weighted by feature similarity.

    ``B = W_q x`` and ``C = W_k x`` (1x1 convs to ``C/8``), ``D = W_v x`` (1x1 conv to ``C``);
    ``S = softmax_j(B_i . C_j)`` (no scaling, as the official code) and ``E = gamma * (S D) + x`` with a
    learned scalar ``gamma``. Plain softmax attention, computed by ``scaled_dot_product_attention`` with
    ``scale=1.0``; the affinity is ``(H*W) x (H*W)``, so memory grows quadratically with the positions
    (the fused kernel avoids storing it when it can).

    Args:
        channels: input channels ``C``.
        reduction: query/key width ``C / reduction`` (official 8).
        zero_init: start ``gamma`` at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> pam = cvattn.create("danet-pam", channels=64)
        >>> pam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``gamma`` starts at 0.1 unless ``zero_init``: at 0 no gradient reaches the query, key and value
        convolutions at the first step, which the package's gradient check rejects.

    Reference:
        Fu et al. Dual Attention Network for Scene Segmentation. CVPR 2019.
    """

    def __init__(self, channels: int, reduction: int = 8, zero_init: bool = False) -> None:
        super().__init__()
        self.channels = channels
        self.query = nn.Conv2d(channels, max(1, channels // reduction), 1)
        self.key = nn.Conv2d(channels, max(1, channels // reduction), 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = _gamma(zero_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        q = self.query(x).flatten(2).transpose(1, 2)  # (N, HW, C/8)
        k = self.key(x).flatten(2).transpose(1, 2)  # (N, HW, C/8)
        v = self.value(x).flatten(2).transpose(1, 2)  # (N, HW, C)
        e = F.scaled_dot_product_attention(q, k, v, scale=1.0)  # S D: (N, HW, C)
        return self.gamma * match_memory_format(e.transpose(1, 2).reshape(x.shape), x) + x


@fx.wrap
def scaled_product(gamma: torch.Tensor, attn: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``gamma * (attn @ v)`` for a scalar ``gamma``, applied to whichever of ``attn`` and the product is smaller
    (a leaf for torch.fx: the choice reads the sizes)."""
    if attn.size(-1) <= v.size(-1):
        return (attn * gamma) @ v
    return (attn @ v) * gamma


@register("danet-cam", kind="attention", inputs=(64, 14, 14), channels=64)
class ChannelAttention(nn.Module):
    """DANet channel attention: every channel aggregates all channels, weighted by channel similarity.

    ``X`` reshaped to ``(C, HW)``; energy ``A = X X^T``; the official code subtracts each row from its
    maximum, ``A' = max_j(A_ij) - A_ij``, before ``S = softmax_j(A')``; output ``gamma * (S X) + x``.
    The only parameter is ``gamma``. Memory grows with ``C^2`` (plus the input), linearly in ``H*W``.

    Args:
        channels: input channels ``C``.
        zero_init: start ``gamma`` at 0 as the official code (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cam = cvattn.create("danet-cam", channels=64)
        >>> cam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``gamma`` starts at 0.1 unless ``zero_init`` (with ``gamma = 0`` the block's output does not depend
        on the attention at the first step). The max-minus-energy step follows the official code, not the
        paper's Eq. 3.

    Reference:
        Fu et al. Dual Attention Network for Scene Segmentation. CVPR 2019.
    """

    def __init__(self, channels: int, zero_init: bool = False) -> None:
        super().__init__()
        self.channels = channels
        self.gamma = _gamma(zero_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        q = x.flatten(2)  # (N, C, HW)
        # official: softmax(max(A) - A) with A = X X^T; the row maximum is a constant of each row, which
        # softmax cancels (and softmax subtracts the maximum of -A itself): softmax(-A), one pass fewer
        attn = torch.softmax(-(q @ q.transpose(1, 2)), -1)  # (N, C, C)
        y = scaled_product(self.gamma, attn, q)  # gamma * (attn q), on the C x C map or the C x HW output
        return match_memory_format(y.reshape(x.shape), x) + x
