"""Temporal Adaptive Module.

Paper: "TAM: Temporal Adaptive Module for Video Recognition", Zhaoyang Liu, Limin Wang, Wayne Wu, Chen Qian, Tong Lu,
ICCV 2021, https://arxiv.org/abs/2005.06803. Official code: https://github.com/liu-zhy/temporal-adaptive-module
(``ops/temporal_module.py``, ``TAM``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..clips import check_clip
from ..layers import LayerType, create_act


@register("tam", kind="attention", inputs=(64, 4, 14, 14), channels=64)
class TAM(nn.Module):
    """TAM: a video-specific temporal convolution, its kernel predicted from the clip, after a local temporal gate.

    The clip is pooled over space to a descriptor ``z`` of shape ``(N, C, T)``. The *local* branch (a temporal
    convolution to ``C/4`` channels, BN, ReLU, a 1x1 convolution back to ``C`` and a sigmoid) turns ``z`` into a
    location-sensitive importance map ``(N, C, T)`` that rescales every frame of every channel. The *global*
    branch (two fully connected layers over the ``T`` frames of each channel with BN and ReLU between, then a
    softmax) predicts a location-invariant aggregation kernel of ``K`` weights for each sample and channel. The
    rescaled clip is then convolved along time, channel by channel, with its own kernel.

    Args:
        channels: input channels ``C``.
        num_frames: frames ``T`` the global branch's fully connected layers are built for (8, the paper's
            setting); a clip of another length has its descriptor resampled to ``num_frames`` by adaptive average
            pooling before them (the identity when ``T == num_frames``).
        kernel_size: length ``K`` of the predicted temporal kernel (3).
        stride: temporal stride of the adaptive convolution (1).
        padding: temporal zero padding of the adaptive convolution (1, "same" for ``K = 3``).
        reduction: channel reduction of the local branch (4).
        act_layer: activation of both branches (ReLU).
        gate_layer: gate of the local branch (sigmoid).

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T', H, W)`` with ``T' = (T + 2 * padding - K) // stride + 1`` (``T`` by default)

    Examples:
        >>> import torch, cvattn
        >>> tam = cvattn.create("tam", channels=64)
        >>> tam(torch.randn(2, 64, 8, 7, 7)).shape
        torch.Size([2, 64, 8, 7, 7])
        >>> tam(torch.randn(1, 64, 3, 7, 7)).shape  # another clip length
        torch.Size([1, 64, 3, 7, 7])

    Deviations:
        The official ``TAM`` takes frames ``(N*T, C, H, W)`` and permutes them to clips and back; here the clip
        layout is the input, so the adaptive convolution runs on it without copies. The official global branch
        needs exactly ``n_segment`` frames; the adaptive pooling for other clip lengths is an addition. The
        official constructor takes a ``stride`` but reshapes its output to ``T`` frames, so only stride 1 runs
        there; here a stride shortens the clip as the shape above says.

    Reference:
        Liu et al. TAM: Temporal Adaptive Module for Video Recognition. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_frames: int = 8,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
        reduction: int = 4,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.num_frames = num_frames
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        hidden = channels // reduction
        # global branch: location-invariant aggregation kernel from the T frames of each channel
        self.global_fc1 = nn.Linear(num_frames, 2 * num_frames, bias=False)
        self.global_bn = nn.BatchNorm1d(2 * num_frames)
        self.global_act = create_act(act_layer, inplace=True)
        self.global_fc2 = nn.Linear(2 * num_frames, kernel_size, bias=False)
        # local branch: location-sensitive importance map
        self.local_conv1 = nn.Conv1d(channels, hidden, kernel_size, padding=kernel_size // 2, bias=False)
        self.local_bn = nn.BatchNorm1d(hidden)
        self.local_act = create_act(act_layer, inplace=True)
        self.local_conv2 = nn.Conv1d(hidden, channels, 1, bias=False)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        n, c, frames = x.shape[0], x.shape[1], x.shape[2]
        z = x.mean((3, 4))  # descriptor: (N, C, T)
        g = F.adaptive_avg_pool1d(z, self.num_frames).reshape(n * c, self.num_frames)
        g = self.global_fc2(self.global_act(self.global_bn(self.global_fc1(g))))
        kernel = torch.softmax(g, -1)  # aggregation weights: (N*C, K)
        importance = self.gate(
            self.local_conv2(self.local_act(self.local_bn(self.local_conv1(z))))
        )  # (N, C, T)
        y = x * importance[..., None, None]
        # each (sample, channel) convolved along time with its own kernel: one grouped convolution
        out = F.conv2d(
            y.reshape(1, n * c, frames, -1),
            kernel.reshape(n * c, 1, self.kernel_size, 1).to(y.dtype),
            stride=(self.stride, 1),
            padding=(self.padding, 0),
            groups=n * c,
        )
        return out.reshape(n, c, -1, x.shape[3], x.shape[4])
