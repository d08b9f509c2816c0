"""Diverse Branch Block (DBB): a KxK conv trained as an Inception-like unit of four branches.

Paper: "Diverse Branch Block: Building a Convolution as an Inception-like Unit", Xiaohan Ding, Xiangyu Zhang,
Jungong Han, Guiguang Ding, CVPR 2021, https://arxiv.org/abs/2103.13425.
Official code: https://github.com/DingXiaoH/DiverseBranchBlock (``diversebranchblock.py``, ``DiverseBranchBlock``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_divisible, check_input, create_act
from .fuse import fuse_conv_bn, pad_kernel


def _pad_as_zero_input(y: torch.Tensor, bn: nn.BatchNorm2d, pad: int) -> torch.Tensor:
    """``y = bn(z)`` padded by ``pad`` with ``bn``'s value for ``z = 0`` (running statistics; official: detached
    affine), i.e. as if ``z`` had been zero-padded before ``bn``: this keeps the next KxK conv fusable."""
    if pad == 0:
        return y
    value = bn.bias.detach() - bn.running_mean * bn.weight.detach() * torch.rsqrt(bn.running_var + bn.eps)
    value = value.reshape(1, -1, 1, 1)
    side = value.expand(y.shape[0], -1, y.shape[2], pad)
    y = torch.cat([side, y, side], dim=3)
    top = value.expand(y.shape[0], -1, pad, y.shape[3])
    return torch.cat([top, y, top], dim=2)


class _IdentityBasedConv1x1(nn.Conv2d):
    """A 1x1 conv whose kernel is ``identity + weight`` (``weight`` starts at zero)."""

    def __init__(self, channels: int, groups: int) -> None:
        super().__init__(channels, channels, 1, groups=groups, bias=False)
        nn.init.zeros_(self.weight)
        identity = torch.zeros_like(self.weight)
        index = torch.arange(channels)
        identity[index, index % (channels // groups), 0, 0] = 1
        self.register_buffer("identity", identity, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight + self.identity, None, groups=self.groups)


def _merge_1x1_kxk(k1: torch.Tensor, b1: torch.Tensor, k2: torch.Tensor, b2: torch.Tensor, groups: int):
    """Kernel and bias of ``conv_kxk(conv_1x1(x) + b1) + b2`` (both convs grouped alike) as one KxK conv."""
    mid, cin_g = k1.shape[0], k1.shape[1]
    cout, _, kh, kw = k2.shape
    k1 = k1.reshape(groups, mid // groups, cin_g)  # (g, j, i)
    k2 = k2.reshape(groups, cout // groups, mid // groups, kh, kw)  # (g, o, j, h, w)
    kernel = torch.einsum("gojhw,gji->goihw", k2, k1).reshape(cout, cin_g, kh, kw)
    bias = torch.einsum("gojhw,gj->go", k2, b1.reshape(groups, -1)).reshape(cout) + b2
    return kernel, bias


@register("dbb", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32, kernel_size=3)
class DiverseBranchBlock(nn.Module):
    """Diverse Branch Block: KxK, 1x1, 1x1-then-average and 1x1-then-KxK branches, fused into one KxK conv.

    During training the block sums four branches, each ending in BN: the ``K x K`` conv itself, a ``1 x 1``
    conv, a ``1 x 1`` conv followed by ``K x K`` average pooling, and a ``1 x 1`` conv followed by a ``K x K``
    conv (the first conv of this branch starts as the identity when it keeps the channel count). The
    intermediate results of the two sequential branches are padded with their BN's value for a zero input, so
    that each pair is exactly one ``K x K`` conv after BN folding; average pooling is a ``K x K`` conv with
    constant kernel ``1 / K^2``. ``switch_to_deploy()`` therefore folds the whole unit into one ``K x K``
    conv with bias: richer training dynamics at no inference cost. For depth-wise blocks
    (``groups >= out_channels``) the ``1 x 1`` branch and the ``1 x 1`` before pooling are left out.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: the odd kernel size ``K``.
        stride: stride of every branch.
        groups: groups of every conv.
        internal_channels: width of the 1x1-KxK branch's middle; ``None`` gives ``in_channels``, or
            ``2 * in_channels`` for depth-wise blocks (official).
        act_layer: activation after the sum (official default: none).
        deploy: build the block directly in its fused form (one conv with bias), e.g. to load fused weights.

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> dbb = cvattn.create("dbb", in_channels=32, out_channels=64, kernel_size=3).eval()
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = dbb(x)
        >>> y.shape
        torch.Size([2, 64, 16, 16])
        >>> dbb.switch_to_deploy()  # one plain 3x3 conv from now on
        >>> torch.allclose(dbb(x), y, atol=1e-5)
        True

    Deviations:
        The official ``dilation`` argument (applied to the KxK branch only, which then no longer fuses exactly)
        and ``padding`` (asserted to be ``K // 2``) are left out; the official ``single_init`` option is left
        out. A depth-wise block with ``in_channels != out_channels`` (which the official code builds but
        cannot run) is refused.

    Reference:
        Ding, Zhang, Han, Ding. Diverse Branch Block: Building a Convolution as an Inception-like Unit.
        CVPR 2021.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        internal_channels: int | None = None,
        act_layer: LayerType = None,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"DiverseBranchBlock: expected an odd kernel_size, got {kernel_size}")
        check_divisible(in_channels, out_channels, groups)
        self.has_1x1 = groups < out_channels
        if not self.has_1x1 and in_channels != out_channels:
            raise ValueError(
                "DiverseBranchBlock: expected in_channels == out_channels for a depth-wise block "
                f"(groups >= out_channels), got {in_channels} and {out_channels}"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.groups = groups
        self.padding = kernel_size // 2
        self.deploy = deploy
        self.act = create_act(act_layer)
        p, k = self.padding, kernel_size
        if deploy:
            self.fused_conv = nn.Conv2d(in_channels, out_channels, k, stride, p, groups=groups, bias=True)
            return
        self.origin_conv = nn.Conv2d(in_channels, out_channels, k, stride, p, groups=groups, bias=False)
        self.origin_bn = nn.BatchNorm2d(out_channels)
        if self.has_1x1:
            self.point_conv = nn.Conv2d(in_channels, out_channels, 1, stride, groups=groups, bias=False)
            self.point_bn = nn.BatchNorm2d(out_channels)
            self.avg_conv = nn.Conv2d(in_channels, out_channels, 1, groups=groups, bias=False)
            self.avg_pad_bn = nn.BatchNorm2d(out_channels)
            self.avg = nn.AvgPool2d(k, stride, padding=0)
        else:
            self.avg = nn.AvgPool2d(k, stride, padding=p)
        self.avg_bn = nn.BatchNorm2d(out_channels)
        if internal_channels is None:
            internal_channels = in_channels if self.has_1x1 else 2 * in_channels
        check_divisible(internal_channels, out_channels, groups)
        if internal_channels == in_channels:
            self.kxk_conv1 = _IdentityBasedConv1x1(in_channels, groups)
        else:
            self.kxk_conv1 = nn.Conv2d(in_channels, internal_channels, 1, groups=groups, bias=False)
        self.kxk_bn1 = nn.BatchNorm2d(internal_channels)
        self.kxk_conv2 = nn.Conv2d(internal_channels, out_channels, k, stride, 0, groups=groups, bias=False)
        self.kxk_bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        if self.deploy:
            return self.act(self.fused_conv(x))
        p = self.padding
        y = self.origin_bn(self.origin_conv(x))
        if self.has_1x1:
            y = y + self.point_bn(self.point_conv(x))
            z = _pad_as_zero_input(self.avg_pad_bn(self.avg_conv(x)), self.avg_pad_bn, p)
            y = y + self.avg_bn(self.avg(z))
        else:
            y = y + self.avg_bn(self.avg(x))
        z = _pad_as_zero_input(self.kxk_bn1(self.kxk_conv1(x)), self.kxk_bn1, p)
        y = y + self.kxk_bn2(self.kxk_conv2(z))
        return self.act(y)

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """One ``K x K`` conv (with bias) equal to the four branches' sum in eval mode (activation not in it)."""
        if self.deploy:
            return self.fused_conv
        k, g = self.kernel_size, self.groups
        fused = fuse_conv_bn(self.origin_conv, self.origin_bn)
        # average pooling as a grouped KxK conv over out_channels middle channels: 1/K^2 on each channel itself
        mid = self.out_channels // g
        avg = torch.zeros_like(fused.weight[:, :1]).expand(-1, mid, -1, -1).clone()
        index = torch.arange(self.out_channels, device=avg.device)
        avg[index, index % mid] = 1.0 / k**2
        scale = self.avg_bn.weight * torch.rsqrt(self.avg_bn.running_var + self.avg_bn.eps)
        k_avg, b_avg = avg * scale.reshape(-1, 1, 1, 1), self.avg_bn.bias - self.avg_bn.running_mean * scale
        if self.has_1x1:
            point = fuse_conv_bn(self.point_conv, self.point_bn)
            fused.weight += pad_kernel(point.weight, k)
            fused.bias += point.bias
            first = fuse_conv_bn(self.avg_conv, self.avg_pad_bn)
            k_avg, b_avg = _merge_1x1_kxk(first.weight, first.bias, k_avg, b_avg, g)
        fused.weight += k_avg
        fused.bias += b_avg
        conv1 = self.kxk_conv1
        weight1 = conv1.weight + conv1.identity if isinstance(conv1, _IdentityBasedConv1x1) else conv1.weight
        first = nn.Conv2d(conv1.in_channels, conv1.out_channels, 1, groups=g, bias=False).to(weight1)
        first.weight.copy_(weight1)
        first = fuse_conv_bn(first, self.kxk_bn1)
        second = fuse_conv_bn(self.kxk_conv2, self.kxk_bn2)
        k_kxk, b_kxk = _merge_1x1_kxk(first.weight, first.bias, second.weight, second.bias, g)
        fused.weight += k_kxk
        fused.bias += b_kxk
        return fused

    def switch_to_deploy(self) -> None:
        """Replace the branches by their fused conv, in place (eval-mode equivalent)."""
        if self.deploy:
            return
        self.fused_conv = self.fuse()
        names = ["origin_conv", "origin_bn", "avg", "avg_bn", "kxk_conv1", "kxk_bn1", "kxk_conv2", "kxk_bn2"]
        if self.has_1x1:
            names += ["point_conv", "point_bn", "avg_conv", "avg_pad_bn"]
        for name in names:
            delattr(self, name)
        self.deploy = True
