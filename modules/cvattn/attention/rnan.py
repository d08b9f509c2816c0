"""Residual non-local attention block of RNAN.

Paper: "Residual Non-local Attention Networks for Image Restoration", Yulun Zhang, Kunpeng Li, Kai Li,
Bineng Zhong, Yun Fu, ICLR 2019, https://arxiv.org/abs/1903.10082. Official code:
https://github.com/yulunzhang/RNAN (``DN_RGB/code/model/common.py``: ``NonLocalBlock2D``, ``TrunkBranch``,
``NLMaskBranchDownUp``, ``NLResAttModuleDownUpPlus``; ``model/rnan.py`` builds the network from them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act

SOFTMAX_OVER = ("query", "key")


class _RNANResBlock(nn.Module):
    """Residual block without normalisation: ``x + conv(act(conv(x)))`` (EDSR style, ``res_scale`` 1)."""

    def __init__(self, channels: int, kernel_size: int, act_layer: LayerType) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.act = create_act(act_layer)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.act(self.conv1(x)))


class _RNANNonLocal(nn.Module):
    """RNAN's non-local block: embedded Gaussian without scaling or subsampling, ``z = W y + x``."""

    def __init__(self, channels: int, inter_channels: int, softmax_over: str, zero_init: bool) -> None:
        super().__init__()
        self.inter_channels, self.softmax_over = inter_channels, softmax_over
        self.g = nn.Conv2d(channels, inter_channels, 1)
        self.theta = nn.Conv2d(channels, inter_channels, 1)
        self.phi = nn.Conv2d(channels, inter_channels, 1)
        self.W = nn.Conv2d(inter_channels, channels, 1)
        if zero_init:
            nn.init.zeros_(self.W.weight)
            nn.init.zeros_(self.W.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, h, w = x.size(0), x.shape[2], x.shape[3]
        theta = self.theta(x).flatten(2).transpose(1, 2)  # queries: (N, HW, Ci)
        phi = self.phi(x).flatten(2).transpose(1, 2)  # keys: (N, HW, Ci)
        g = self.g(x).flatten(2).transpose(1, 2)  # values: (N, HW, Ci)
        if self.softmax_over == "key":
            y = F.scaled_dot_product_attention(theta, phi, g, scale=1.0)  # softmax_j: (N, HW, Ci)
        else:
            f = theta @ phi.transpose(1, 2)  # f_ij = theta_i . phi_j: (N, HW_i, HW_j)
            y = f.softmax(dim=1) @ g  # normalised over the queries i, as the official code: (N, HW, Ci)
        y = y.transpose(1, 2).reshape(n, self.inter_channels, h, w)  # (N, Ci, H, W)
        return self.W(y) + x


class _RNANMaskBranch(nn.Module):
    """(Non-local) mask branch: [NL] -> RB -> down -> 2 RB -> up (+ skip) -> RB -> 1x1 conv -> gate."""

    def __init__(
        self,
        channels: int,
        kernel_size: int,
        non_local: nn.Module,
        act_layer: LayerType,
        gate_layer: LayerType,
    ) -> None:
        super().__init__()
        self.non_local = non_local
        self.rb1 = _RNANResBlock(channels, kernel_size, act_layer)
        self.down = nn.Conv2d(channels, channels, 3, stride=2, padding=1)
        self.rb2 = nn.Sequential(*(_RNANResBlock(channels, kernel_size, act_layer) for _ in range(2)))
        self.up = nn.ConvTranspose2d(channels, channels, 6, stride=2, padding=2)
        self.rb3 = _RNANResBlock(channels, kernel_size, act_layer)
        self.conv1x1 = nn.Conv2d(channels, channels, 1)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        x_rb1 = self.rb1(self.non_local(x))  # (N, C, H, W)
        x_down = self.rb2(self.down(x_rb1))  # (N, C, ceil(H/2), ceil(W/2))
        x_up = self.up(x_down)[:, :, :h, :w]  # 2*ceil(H/2) rows, cropped to H for odd sizes: (N, C, H, W)
        return self.gate(self.conv1x1(self.rb3(x_rb1 + x_up)))


@register("rnan", kind="attention", inputs=(64, 16, 16), channels=64)
class RNAB(nn.Module):
    """Residual non-local attention block (RNAB): trunk features rescaled by a non-local mixed-attention mask.

    After ``pre_blocks`` residual blocks (``x`` below), a trunk branch of ``trunk_blocks`` residual blocks
    gives ``T(x)`` and a mask branch gives a sigmoid mask ``M(x)`` of the same shape as the features
    (channel- and spatial-wise "mixed" attention). The mask branch is a non-local block followed by a
    small encoder-decoder: residual block, 3x3 stride-2 convolution, two residual blocks, 6x6 stride-2
    transposed convolution with a skip connection, residual block, 1x1 convolution, sigmoid. Residual
    attention learning gives ``x + T(x) * M(x)``, followed by ``post_blocks`` residual blocks. Residual
    blocks are ``x + conv(ReLU(conv(x)))`` without normalisation. With ``non_local=False`` it is the local
    block (RAB). The non-local block is an embedded Gaussian ``z = W y + x`` with ``C/2`` embeddings, no
    scaling and no subsampling, so memory grows with ``(H*W)^2`` (the full affinity matrix is stored for
    the official ``softmax_over="query"``).

    Args:
        channels: input channels ``C`` (``n_feats``: 64 in RNAN).
        kernel_size: kernel size of the residual blocks' convolutions (3).
        pre_blocks: residual blocks before the two branches (1, as the official code).
        trunk_blocks: residual blocks of the trunk branch (2, as the official code).
        post_blocks: residual blocks after the residual attention (2, as the official code).
        non_local: start the mask branch with a non-local block (true: RNAB; false: the local RAB).
        inter_channels: embedding width of the non-local block (default ``C // 2``).
        softmax_over: ``"query"`` (default, the official code: ``softmax(f, dim=1)`` normalises each key's
            affinities over the query positions) or ``"key"`` (the paper's and the original non-local
            block's normalisation over the key positions, computed by ``scaled_dot_product_attention``
            with scale 1).
        act_layer: activation inside the residual blocks (ReLU).
        gate_layer: gating function of the mask (sigmoid).
        zero_init: start the non-local block's ``W`` at zero as the official code, so it starts as an
            identity (default false, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> rnab = cvattn.create("rnan", channels=64)
        >>> rnab(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The official code normalises the non-local affinities over the query positions
        (``F.softmax(f, dim=1)``), whereas the paper and the non-local block it cites normalise over the
        key positions; the default follows the code (the released models were trained with it), and
        ``softmax_over="key"`` gives the paper's form. ``zero_init`` defaults to false: the official zero
        initialisation of ``W`` stops any gradient from reaching ``theta``, ``phi`` and ``g`` at the first
        step, which the package's gradient check rejects. For an odd height or width the upsampled mask
        features (one row or column larger) are cropped to the input size; the official code works only
        for even sizes.

    Reference:
        Zhang, Li, Li, Zhong, Fu. Residual Non-local Attention Networks for Image Restoration. ICLR 2019.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        pre_blocks: int = 1,
        trunk_blocks: int = 2,
        post_blocks: int = 2,
        non_local: bool = True,
        inter_channels: int | None = None,
        softmax_over: str = "query",
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if softmax_over not in SOFTMAX_OVER:
            raise ValueError(f"softmax_over must be one of {SOFTMAX_OVER}, got {softmax_over!r}")
        self.channels = channels
        self.inter_channels = inter_channels or max(1, channels // 2)

        def res_blocks(count: int) -> nn.Sequential:
            return nn.Sequential(*(_RNANResBlock(channels, kernel_size, act_layer) for _ in range(count)))

        nl = (
            _RNANNonLocal(channels, self.inter_channels, softmax_over, zero_init)
            if non_local
            else nn.Identity()
        )
        self.pre = res_blocks(pre_blocks)
        self.trunk = res_blocks(trunk_blocks)
        self.mask = _RNANMaskBranch(channels, kernel_size, nl, act_layer, gate_layer)
        self.post = res_blocks(post_blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        x = self.pre(x)
        t = self.trunk(x)  # trunk features T(x)
        m = self.mask(x)  # mixed attention mask M(x) in (0, 1)
        return self.post(x + t * m)  # residual attention learning
