"""RepVGG block: a 3x3 conv trained with a parallel 1x1 conv and an identity, each with BN.

Paper: "RepVGG: Making VGG-style ConvNets Great Again", Xiaohan Ding, Xiangyu Zhang, Ningning Ma, Jungong Han,
Guiguang Ding, Jian Sun, CVPR 2021, https://arxiv.org/abs/2101.03697.
Official code: https://github.com/DingXiaoH/RepVGG (``repvgg.py``, ``RepVGGBlock``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_divisible, check_input, create_act
from .fuse import fuse_conv_bn, fuse_identity_bn, pad_kernel


@register("repvgg", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32)
class RepVGGBlock(nn.Module):
    """RepVGG block: ``act(BN(W_3 * x) + BN(W_1 * x) + BN(x))``, fused into one 3x3 conv for inference.

    The training-time block is a small multi-branch network: a ``3 x 3`` conv with BN, a parallel ``1 x 1``
    conv with BN and, when the input and output shapes agree (``in_channels == out_channels``, stride 1), an
    identity branch that is a BN alone; the three are summed and passed through a ReLU. Every branch is linear
    in eval mode, so ``switch_to_deploy()`` folds each BN into its kernel, pads the ``1 x 1`` kernel and the
    identity to ``3 x 3`` and adds them: the deployed block is one plain ``3 x 3`` conv (with bias) and a
    ReLU, a VGG-style layer with the accuracy of the multi-branch one.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size of the dense branch (odd; official: 3 only).
        stride: stride of both conv branches (the identity branch exists only for stride 1).
        groups: groups of both conv branches (RepVGG's grouped variants "g2"/"g4").
        act_layer: activation after the sum (official: ReLU).
        deploy: build the block directly in its fused form (one conv with bias), e.g. to load fused weights.

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("repvgg", in_channels=32, out_channels=32).eval()
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = block(x)
        >>> y.shape
        torch.Size([2, 32, 16, 16])
        >>> block.switch_to_deploy()  # one 3x3 conv + ReLU from now on
        >>> torch.allclose(block(x), y, atol=1e-5)
        True

    Deviations:
        ``kernel_size`` may be any odd size (the official block asserts 3, padding 1); padding is always
        ``kernel_size // 2``. The official ``use_se`` option (RepVGG-D2se) is left out: its SE pools with an
        ``avg_pool2d`` window of the input's width, a global pool only for square inputs. The official
        ``dilation`` and ``padding_mode`` arguments, which reach only the deploy-form conv, are left out.

    Reference:
        Ding, Zhang, Ma, Han, Ding, Sun. RepVGG: Making VGG-style ConvNets Great Again. CVPR 2021.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        act_layer: LayerType = nn.ReLU,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"RepVGGBlock: expected an odd kernel_size, got {kernel_size}")
        check_divisible(in_channels, out_channels, groups)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.groups = groups
        self.deploy = deploy
        self.act = create_act(act_layer)

        def conv(k: int, bias: bool = False) -> nn.Conv2d:
            return nn.Conv2d(in_channels, out_channels, k, stride, k // 2, groups=groups, bias=bias)

        if deploy:
            self.fused_conv = conv(kernel_size, bias=True)
            return
        self.dense_conv = conv(kernel_size)
        self.dense_bn = nn.BatchNorm2d(out_channels)
        self.point_conv = conv(1)
        self.point_bn = nn.BatchNorm2d(out_channels)
        has_identity = in_channels == out_channels and stride == 1
        self.identity_bn = nn.BatchNorm2d(in_channels) if has_identity else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        if self.deploy:
            return self.act(self.fused_conv(x))
        y = self.dense_bn(self.dense_conv(x)) + self.point_bn(self.point_conv(x))
        if self.identity_bn is not None:
            y = y + self.identity_bn(x)
        return self.act(y)

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """One ``K x K`` conv (with bias) equal to the branches' sum in eval mode (the activation is not in it)."""
        if self.deploy:
            return self.fused_conv
        fused = fuse_conv_bn(self.dense_conv, self.dense_bn)
        point = fuse_conv_bn(self.point_conv, self.point_bn)
        fused.weight += pad_kernel(point.weight, self.kernel_size)
        fused.bias += point.bias
        if self.identity_bn is not None:
            identity = fuse_identity_bn(self.identity_bn, self.kernel_size, self.groups)
            fused.weight += identity.weight
            fused.bias += identity.bias
        return fused

    def switch_to_deploy(self) -> None:
        """Replace the branches by their fused conv, in place (eval-mode equivalent)."""
        if self.deploy:
            return
        self.fused_conv = self.fuse()
        for name in ("dense_conv", "dense_bn", "point_conv", "point_bn", "identity_bn"):
            delattr(self, name)
        self.deploy = True
