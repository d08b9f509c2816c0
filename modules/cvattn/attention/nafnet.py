"""NAFNet's simplified channel attention (SCA), SimpleGate and NAFBlock.

Paper: "Simple Baselines for Image Restoration", Liangyu Chen, Xiaojie Chu, Xiangyu Zhang, Jian Sun, ECCV 2022,
https://arxiv.org/abs/2204.04676. Official code: https://github.com/megvii-research/NAFNet
(``basicsr/models/archs/NAFNet_arch.py``: ``SimpleGate``, ``NAFBlock`` with its ``sca``; ``LayerNorm2d`` in
``arch_util.py``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import check_input


@register("nafnet-sca", kind="attention", inputs=(64, 14, 14), channels=64)
class NAFSimplifiedChannelAttention(nn.Module):
    """NAFNet SCA: channel attention without a bottleneck or a gate.

    The channel descriptor ``mean_{H,W}(X)`` goes through a single 1x1 convolution ``W`` (with bias) and
    multiplies the input, ``SCA(X) = X * W pool(X)``: SE's two layers, ReLU and sigmoid are dropped, keeping
    only the global-information aggregation and the channel interaction.

    Args:
        channels: channels ``C``.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sca = cvattn.create("nafnet-sca", channels=64)
        >>> sca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        None (the official ``sca`` is an ``nn.Sequential`` of ``AdaptiveAvgPool2d(1)`` and the convolution
        inside ``NAFBlock``).

    Reference:
        Chen et al. Simple Baselines for Image Restoration. ECCV 2022.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.conv = nn.Conv2d(channels, channels, 1, bias=True)  # W

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        return x * self.conv(x.mean((2, 3), keepdim=True))  # (N, C, 1, 1) weights


def _check_even(x: torch.Tensor, channels: int | None) -> None:
    check_input(x, channels)
    if not isinstance(x, fx.Proxy) and x.shape[1] % 2:
        raise ValueError(f"input: expected an even number of channels, got {tuple(x.shape)}")


@register("nafnet-simplegate", kind="block", inputs=(64, 14, 14), channels=64)
class NAFSimpleGate(nn.Module):
    """NAFNet SimpleGate: split the channels in two halves and multiply them.

    ``SimpleGate(X) = X1 * X2`` with ``X1, X2`` the first and second half of the channels; a GLU whose
    non-linearity is removed, which the paper shows can replace GELU (the gate itself is non-linear).

    Args:
        channels: input channels ``2C`` (even); ``None`` accepts any even count.

    Shape:
        - Input: ``(N, 2C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sg = cvattn.create("nafnet-simplegate", channels=64)
        >>> sg(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 32, 14, 14])

    Deviations:
        None (no parameters).

    Reference:
        Chen et al. Simple Baselines for Image Restoration. ECCV 2022.
    """

    def __init__(self, channels: int | None = None) -> None:
        super().__init__()
        if channels is not None and channels % 2:
            raise ValueError(f"channels: expected an even number, got {channels}")
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_even(x, self.channels)
        x1, x2 = x.chunk(2, dim=1)
        return x1 * x2


class _ChannelLayerNormFunction(torch.autograd.Function):
    """Layer norm over dim 1 with the closed-form backward (cheaper than autograd through mean and variance)."""

    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        mu = x.mean(1, keepdim=True)
        rstd = torch.rsqrt((x - mu).square().mean(1, keepdim=True) + eps)
        y = (x - mu) * rstd  # normalised, (N, C, H, W)
        ctx.save_for_backward(y, rstd, weight)
        return y * weight[:, None, None] + bias[:, None, None]

    @staticmethod
    def backward(ctx, grad):
        y, rstd, weight = ctx.saved_tensors
        g = grad * weight[:, None, None]
        gx = rstd * (g - y * (g * y).mean(1, keepdim=True) - g.mean(1, keepdim=True))
        return gx, (grad * y).sum((0, 2, 3)), grad.sum((0, 2, 3)), None


@fx.wrap
def _channel_layer_norm(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float
) -> torch.Tensor:
    """Layer norm over the channels of every position (one node in an ``fx`` trace)."""
    return _ChannelLayerNormFunction.apply(x, weight, bias, eps)


class _ChannelLayerNorm(nn.Module):
    """Layer norm over the channels of every position of an ``(N, C, H, W)`` map (NAFNet's ``LayerNorm2d``)."""

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _channel_layer_norm(x, self.weight, self.bias, self.eps)


@register("nafnet", kind="block", inputs=(32, 14, 14), channels=32)
class NAFBlock(nn.Module):
    """NAFBlock: NAFNet's nonlinear-activation-free block, built from SCA and SimpleGate.

    Two residual stages with learned per-channel scales ``beta`` and ``gamma``:
    ``Y = X + beta * conv3(SCA(SG(dwconv3x3(conv1(LN(X))))))`` (spatial mixing), then
    ``Y + gamma * conv5(SG(conv4(LN(Y))))`` (feed-forward). ``conv1`` widens to ``dw_expand * C`` and ``conv4``
    to ``ffn_expand * C`` channels, which SimpleGate halves; every convolution has a bias and LN is a layer
    norm over the channels of each position. There is no activation function.

    Args:
        channels: channels ``C``.
        dw_expand: expansion of the depth-wise stage (2).
        ffn_expand: expansion of the feed-forward stage (2).
        drop_rate: dropout after each stage (0).
        zero_init: start ``beta`` and ``gamma`` at 0, as the official code, so that the block starts as the
            identity (default false: 0.1, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("nafnet", channels=32)
        >>> block(torch.randn(2, 32, 14, 14)).shape
        torch.Size([2, 32, 14, 14])

    Deviations:
        ``beta`` and ``gamma`` start at 0.1 unless ``zero_init``: at 0 the block is the identity and no
        gradient reaches any of its convolutions at the first step. Like the official ``LayerNorm2d``, the layer
        norm has a hand-written backward (so no double backward).

    Reference:
        Chen et al. Simple Baselines for Image Restoration. ECCV 2022.
    """

    def __init__(
        self,
        channels: int,
        dw_expand: int = 2,
        ffn_expand: int = 2,
        drop_rate: float = 0.0,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        self.channels = channels
        dw, ffn = dw_expand * channels, ffn_expand * channels
        if dw % 2 or ffn % 2:
            raise ValueError(f"dw_expand * channels ({dw}) and ffn_expand * channels ({ffn}) must be even")
        self.norm1 = _ChannelLayerNorm(channels)
        self.conv1 = nn.Conv2d(channels, dw, 1)
        self.conv2 = nn.Conv2d(dw, dw, 3, padding=1, groups=dw)
        self.sg = NAFSimpleGate()
        self.sca = NAFSimplifiedChannelAttention(dw // 2)
        self.conv3 = nn.Conv2d(dw // 2, channels, 1)
        self.dropout1 = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        self.norm2 = _ChannelLayerNorm(channels)
        self.conv4 = nn.Conv2d(channels, ffn, 1)
        self.conv5 = nn.Conv2d(ffn // 2, channels, 1)
        self.dropout2 = nn.Dropout(drop_rate) if drop_rate > 0 else nn.Identity()
        start = 0.0 if zero_init else 0.1
        self.beta = nn.Parameter(torch.full((1, channels, 1, 1), start))
        self.gamma = nn.Parameter(torch.full((1, channels, 1, 1), start))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = self.sca(self.sg(self.conv2(self.conv1(self.norm1(x)))))  # (N, dw/2, H, W)
        y = x + self.dropout1(self.conv3(z)) * self.beta
        z = self.sg(self.conv4(self.norm2(y)))  # (N, ffn/2, H, W)
        return y + self.dropout2(self.conv5(z)) * self.gamma
