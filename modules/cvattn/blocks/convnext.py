"""ConvNeXt block.

Paper: "A ConvNet for the 2020s", Zhuang Liu, Hanzi Mao, Chao-Yuan Wu, Christoph Feichtenhofer, Trevor Darrell,
Saining Xie, CVPR 2022, https://arxiv.org/abs/2201.03545.
Official code: https://github.com/facebookresearch/ConvNeXt (``models/convnext.py``, ``Block``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, drop_path, match_memory_format
from ..tokens import from_channels_last, to_channels_last


@register("convnext", kind="block", inputs=(64, 14, 14), channels=64)
class ConvNeXtBlock(nn.Module):
    """ConvNeXt block: a 7x7 depthwise conv, LayerNorm, an inverted-bottleneck MLP, layer scale and a residual.

    ``y = x + DropPath(gamma * W_2 GELU(W_1 LN(DWConv_{7x7}(x))))``, where ``LN`` normalises over the channels
    of each position, ``W_1`` widens the channels ``mlp_ratio`` times and ``W_2`` narrows them back (both
    pointwise, applied as linear layers on the channels-last map), and ``gamma`` is a learnable per-channel
    scale that starts at ``layer_scale_init_value`` (1e-6), so the block starts close to the identity. The
    block mirrors a transformer block: the depthwise conv mixes space like self-attention, the MLP mixes
    channels, with one normalisation and one activation only. Memory grows with ``mlp_ratio * C * H * W``.

    Args:
        channels: channels ``C`` (the block keeps them).
        kernel_size: depthwise kernel size, odd (paper: 7).
        mlp_ratio: hidden width of the MLP as a multiple of ``channels`` (paper: 4).
        layer_scale_init_value: initial value of the layer scale ``gamma``; ``0`` or less removes it.
        drop_path: stochastic-depth probability of dropping the residual branch per sample in training
            (0: off; the networks of the paper set it per block, 0.1 to 0.5).
        act_layer: the MLP's activation (GELU).
        eps: LayerNorm epsilon (official: 1e-6).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("convnext", channels=64)
        >>> block(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``kernel_size``, ``mlp_ratio``, ``act_layer`` and ``eps`` are arguments (fixed in the official block).
        Stochastic depth is :func:`cvattn.layers.drop_path` (the official block uses timm's ``DropPath``,
        which also scales the kept samples by ``1 / (1 - drop_path)``). The official network initialises every conv and
        linear weight with a truncated normal (std 0.02) and zero biases in ``ConvNeXt._init_weights``; the
        block alone, here as in the official ``Block``, keeps PyTorch's default initialisation.

    Reference:
        Liu, Mao, Wu, Feichtenhofer, Darrell, Xie. A ConvNet for the 2020s. CVPR 2022.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        mlp_ratio: float = 4.0,
        layer_scale_init_value: float = 1e-6,
        drop_path: float = 0.0,
        act_layer: LayerType = nn.GELU,
        eps: float = 1e-6,
    ) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd and positive, got {kernel_size}")
        if not 0.0 <= drop_path < 1.0:
            raise ValueError(f"drop_path must be in [0, 1), got {drop_path}")
        hidden = int(mlp_ratio * channels)
        self.channels = channels
        self.drop_prob = drop_path
        self.dwconv = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2, groups=channels)
        self.norm = nn.LayerNorm(channels, eps=eps)
        self.pwconv1 = nn.Linear(channels, hidden)
        self.act = create_act(act_layer)
        self.pwconv2 = nn.Linear(hidden, channels)
        if layer_scale_init_value > 0:
            self.gamma = nn.Parameter(torch.full((channels,), float(layer_scale_init_value)))
        else:
            self.gamma = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = to_channels_last(self.dwconv(x))  # (N, H, W, C)
        z = self.pwconv2(self.act(self.pwconv1(self.norm(z))))
        if self.gamma is not None:
            z = self.gamma * z
        z = from_channels_last(z)  # (N, C, H, W), a view
        z = drop_path(z, self.drop_prob, self.training)
        return match_memory_format(x + z, x)
