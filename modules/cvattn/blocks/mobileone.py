"""MobileOne block: depth-wise and point-wise convs, each trained with k over-parameterised branches.

Paper: "MobileOne: An Improved One millisecond Mobile Backbone", Pavan Kumar Anasosalu Vasu, James Gabriel,
Jeff Zhu, Oncel Tuzel, Anurag Ranjan, CVPR 2023, https://arxiv.org/abs/2206.04040.
Official code: https://github.com/apple/ml-mobileone (``mobileone.py``, ``MobileOneBlock``; the block pair is
built in ``MobileOne._make_stage``).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .._registry import register
from ..attention.se import SqueezeExcitation
from ..layers import check_divisible, check_input
from .fuse import fuse_conv_bn, fuse_identity_bn, pad_kernel


def _conv_bn(cin: int, cout: int, k: int, stride: int, groups: int) -> nn.Sequential:
    conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)
    return nn.Sequential(OrderedDict(conv=conv, bn=nn.BatchNorm2d(cout)))


@register(
    "mobileone-conv",
    kind="block",
    inputs=(32, 16, 16),
    in_channels=32,
    out_channels=32,
    kernel_size=3,
    num_conv_branches=4,
)
class MobileOneConv(nn.Module):
    """One re-parameterisable MobileOne conv: ``act(SE(sum_k BN(W_k * x) + BN(W_1x1 * x) + BN(x)))``.

    The training-time unit sums ``k`` parallel ``K x K`` conv-BN branches (the over-parameterisation factor),
    a ``1 x 1`` conv-BN "scale" branch (only when ``K > 1``) and, when shapes agree, a BN-only skip branch;
    then an optional SE and a ReLU. All branches are linear in eval mode, so ``switch_to_deploy()`` replaces
    them by one ``K x K`` conv with bias (RepVGG's folding, with ``k`` dense branches instead of one).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: the odd kernel size ``K`` (MobileOne: 3 depth-wise, 1 point-wise).
        stride: stride of the conv branches (the skip branch exists only for stride 1).
        groups: groups of the conv branches (``in_channels`` for the depth-wise conv).
        num_conv_branches: the over-parameterisation factor ``k`` (official default 1; MobileOne-S0: 4).
        use_se: apply squeeze-excitation (hidden width ``int(out_channels / 16)``) before the ReLU
            (MobileOne-S4).
        deploy: build the unit directly in its fused form (one conv with bias).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("mobileone-conv", in_channels=32, out_channels=32, groups=32).eval()
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = conv(x)
        >>> y.shape
        torch.Size([2, 32, 16, 16])
        >>> conv.switch_to_deploy()
        >>> torch.allclose(conv(x), y, atol=1e-5)
        True

    Deviations:
        Padding is always ``K // 2`` (the official ``padding`` argument is set so in MobileOne); the official
        ``dilation`` argument, which reaches only the inference-mode conv, is left out.

    Reference:
        Vasu, Gabriel, Zhu, Tuzel, Ranjan. MobileOne: An Improved One millisecond Mobile Backbone. CVPR 2023.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        groups: int = 1,
        num_conv_branches: int = 1,
        use_se: bool = False,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0 or num_conv_branches < 1:
            raise ValueError(
                f"MobileOneConv: expected an odd kernel_size and num_conv_branches >= 1, got {kernel_size} "
                f"and {num_conv_branches}"
            )
        check_divisible(in_channels, out_channels, groups)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.groups = groups
        self.deploy = deploy
        hidden = int(out_channels * 0.0625)
        self.se = SqueezeExcitation(out_channels, hidden_channels=hidden) if use_se else nn.Identity()
        self.act = nn.ReLU()
        if deploy:
            k = kernel_size
            self.fused_conv = nn.Conv2d(
                in_channels, out_channels, k, stride, k // 2, groups=groups, bias=True
            )
            return
        has_skip = in_channels == out_channels and stride == 1
        self.skip_bn = nn.BatchNorm2d(in_channels) if has_skip else None
        self.conv_branches = nn.ModuleList(
            _conv_bn(in_channels, out_channels, kernel_size, stride, groups) for _ in range(num_conv_branches)
        )
        has_scale = kernel_size > 1
        self.scale_branch = _conv_bn(in_channels, out_channels, 1, stride, groups) if has_scale else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        if self.deploy:
            return self.act(self.se(self.fused_conv(x)))
        # the branches end in batch norm, whose backward does not read its output: summed in place
        y = self.conv_branches[0](x)
        for branch in self.conv_branches[1:]:
            y += branch(x)
        if self.scale_branch is not None:
            y += self.scale_branch(x)
        if self.skip_bn is not None:
            y += self.skip_bn(x)
        return self.act(self.se(y))

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """One ``K x K`` conv (with bias) equal to the branches' sum in eval mode (SE and ReLU not in it)."""
        if self.deploy:
            return self.fused_conv
        fused = fuse_conv_bn(self.conv_branches[0].conv, self.conv_branches[0].bn)
        others = [fuse_conv_bn(b.conv, b.bn) for b in self.conv_branches[1:]]
        if self.scale_branch is not None:
            others.append(fuse_conv_bn(self.scale_branch.conv, self.scale_branch.bn))
        if self.skip_bn is not None:
            others.append(fuse_identity_bn(self.skip_bn, self.kernel_size, self.groups))
        for conv in others:
            fused.weight += pad_kernel(conv.weight, self.kernel_size)
            fused.bias += conv.bias
        return fused

    def switch_to_deploy(self) -> None:
        """Replace the branches by their fused conv, in place (eval-mode equivalent)."""
        if self.deploy:
            return
        self.fused_conv = self.fuse()
        for name in ("skip_bn", "conv_branches", "scale_branch"):
            delattr(self, name)
        self.deploy = True


@register(
    "mobileone",
    kind="block",
    inputs=(32, 16, 16),
    in_channels=32,
    out_channels=64,
    num_conv_branches=4,
)
class MobileOneBlock(nn.Module):
    """MobileOne block: a 3x3 depth-wise MobileOne conv, then a 1x1 point-wise one, each with k branches.

    The paper's block (its Fig. 3) is a MobileNet-style depth-wise separable pair whose two convs are
    over-parameterised at training time: the depth-wise ``3 x 3`` conv has ``k`` conv-BN branches, a
    ``1 x 1`` conv-BN branch and a BN skip; the point-wise ``1 x 1`` conv has ``k`` conv-BN branches and a
    BN skip (see :class:`MobileOneConv`); each is followed by ReLU. ``switch_to_deploy()`` folds each into
    one conv, leaving a plain depth-wise separable pair at inference, which is why MobileOne runs in about a
    millisecond on a phone while training like a wider network.

    Args:
        in_channels: input channels.
        out_channels: output channels of the point-wise conv.
        stride: stride of the depth-wise conv.
        num_conv_branches: the over-parameterisation factor ``k`` of both convs (official default 1;
            MobileOne-S0: 4).
        use_se: squeeze-excitation in both convs (MobileOne-S4's last blocks).
        deploy: build the block directly in its fused form.

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("mobileone", in_channels=32, out_channels=64, num_conv_branches=4).eval()
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = block(x)
        >>> y.shape
        torch.Size([2, 64, 16, 16])
        >>> block.switch_to_deploy()  # a 3x3 depth-wise conv and a 1x1 conv, each with ReLU
        >>> torch.allclose(block(x), y, atol=1e-5)
        True

    Reference:
        Vasu, Gabriel, Zhu, Tuzel, Ranjan. MobileOne: An Improved One millisecond Mobile Backbone. CVPR 2023.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        num_conv_branches: int = 1,
        use_se: bool = False,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        common = {"num_conv_branches": num_conv_branches, "use_se": use_se, "deploy": deploy}
        self.depthwise = MobileOneConv(in_channels, in_channels, 3, stride, groups=in_channels, **common)
        self.pointwise = MobileOneConv(in_channels, out_channels, 1, 1, **common)

    @property
    def deploy(self) -> bool:
        return self.depthwise.deploy and self.pointwise.deploy

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        return self.pointwise(self.depthwise(x))

    @torch.no_grad()
    def fuse(self) -> tuple[nn.Conv2d, nn.Conv2d]:
        """The fused depth-wise and point-wise convs (each followed by its SE, if any, and ReLU in the block)."""
        return self.depthwise.fuse(), self.pointwise.fuse()

    def switch_to_deploy(self) -> None:
        """Fuse both convs in place (eval-mode equivalent)."""
        self.depthwise.switch_to_deploy()
        self.pointwise.switch_to_deploy()
