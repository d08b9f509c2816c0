"""BiSeNet attention refinement and feature fusion modules.

Paper: "BiSeNet: Bilateral Segmentation Network for Real-time Semantic Segmentation", Changqian Yu, Jingbo
Wang, Chao Peng, Changxin Gao, Gang Yu, Nong Sang, ECCV 2018, https://arxiv.org/abs/1808.00897. The authors
published no official repository for the paper; the first author's TorchSeg
(https://github.com/ycszen/TorchSeg, ``furnace/seg_opr/seg_oprs.py``: ``AttentionRefinement``,
``FeatureFusion``) is the closest to an official implementation and fills in what the paper leaves open.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, ConvNormAct, LayerType, check_input, create_act, get_layer


@register("bisenet-arm", kind="attention", inputs=(64, 16, 16), channels=64)
class AttentionRefinementModule(nn.Module):
    """BiSeNet ARM: re-weights the channels of a context-path feature by its global context.

    ``a = sigmoid(BN(W * GAP(x)))`` with ``W`` a 1x1 conv ``C -> C`` (no bias, as TorchSeg) and the output
    ``x * a``: the paper's Fig. 2(b) (global pool, 1x1 conv, batch norm, sigmoid, multiply).

    Args:
        channels: input channels ``C``.
        norm_layer: normalisation of the pooled descriptor (BatchNorm2d, as ``BatchNormAnyBatch2d``);
            ``None`` for none.
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> arm = cvattn.create("bisenet-arm", channels=64)
        >>> arm(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        TorchSeg's ``AttentionRefinement`` puts a 3x3 conv-BN-ReLU (``in -> out`` channels) in front of the
        attention; the paper's ARM has none, so this module is the attention alone (add a
        ``ConvNormAct`` before it to reproduce TorchSeg). With a training batch of one, the BatchNorm uses
        its running statistics.

    Reference:
        Yu, Wang, Peng, Gao, Yu, Sang. BiSeNet: Bilateral Segmentation Network for Real-time Semantic
        Segmentation. ECCV 2018.
    """

    def __init__(
        self, channels: int, norm_layer: LayerType = nn.BatchNorm2d, gate_layer: LayerType = nn.Sigmoid
    ) -> None:
        super().__init__()
        self.channels = channels
        norm = get_layer(norm_layer)
        self.conv = nn.Conv2d(channels, channels, 1, bias=False)
        pooled_norm = BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm
        self.bn = pooled_norm(channels) if norm is not None else nn.Identity()
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        a = self.gate(self.bn(self.conv(x.mean((2, 3), keepdim=True))))  # (N, C, 1, 1)
        return x * a


@register(
    "bisenet-ffm",
    kind="fusion",
    inputs=((64, 16, 16), (64, 16, 16)),
    spatial_channels=64,
    context_channels=64,
    out_channels=128,
)
class FeatureFusionModule(nn.Module):
    """BiSeNet FFM: fuses the spatial-path and context-path features with an SE-like re-weighting.

    ``u = ReLU(BN(conv([x_sp, x_cx])))`` on the concatenation, then
    ``a = sigmoid(W2 ReLU(W1 GAP(u)))`` (1x1 convs without bias or norm, ``C -> C/r -> C``) and the output
    ``u + u * a``.

    Args:
        spatial_channels: channels of the spatial-path input.
        context_channels: channels of the context-path input.
        out_channels: output channels ``C``.
        kernel_size: size of the fusing conv (TorchSeg: 1; the paper leaves it open).
        reduction: reduction ratio ``r`` of the attention (TorchSeg's BiSeNet: 1).
        act_layer: activation (ReLU).
        norm_layer: normalisation of the fusing conv (BatchNorm2d).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``x_sp``: ``(N, spatial_channels, H, W)``, ``x_cx``: ``(N, context_channels, H, W)``
        - Output: ``(N, out_channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> ffm = cvattn.create("bisenet-ffm", spatial_channels=64, context_channels=64, out_channels=128)
        >>> ffm(torch.randn(2, 64, 16, 16), torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 128, 16, 16])

    Reference:
        Yu, Wang, Peng, Gao, Yu, Sang. BiSeNet: Bilateral Segmentation Network for Real-time Semantic
        Segmentation. ECCV 2018.
    """

    def __init__(
        self,
        spatial_channels: int,
        context_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        reduction: int = 1,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.spatial_channels, self.context_channels = spatial_channels, context_channels
        hidden = max(1, out_channels // reduction)
        self.fuse = ConvNormAct(
            spatial_channels + context_channels,
            out_channels,
            kernel_size,
            norm_layer=norm_layer,
            act_layer=act_layer,
        )
        self.fc1 = nn.Conv2d(out_channels, hidden, 1, bias=False)
        self.act = create_act(act_layer, inplace=True)
        self.fc2 = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self.gate = create_act(gate_layer)

    def forward(self, x_sp: torch.Tensor, x_cx: torch.Tensor) -> torch.Tensor:
        check_input(x_sp, self.spatial_channels, name="x_sp")
        check_input(x_cx, self.context_channels, name="x_cx")
        u = self.fuse(torch.cat([x_sp, x_cx], 1))  # (N, C, H, W)
        a = self.gate(self.fc2(self.act(self.fc1(u.mean((2, 3), keepdim=True)))))  # (N, C, 1, 1)
        return u + u * a
