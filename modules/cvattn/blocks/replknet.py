"""RepLKNet's re-parameterised large-kernel depth-wise conv and the RepLK block built on it.

Paper: "Scaling Up Your Kernels to 31x31: Revisiting Large Kernel Design in CNNs", Xiaohan Ding, Xiangyu Zhang,
Jungong Han, Guiguang Ding, CVPR 2022, https://arxiv.org/abs/2203.06717.
Official code: https://github.com/DingXiaoH/RepLKNet-pytorch (``replknet.py``, ``ReparamLargeKernelConv``,
``RepLKBlock``).
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from .._registry import register
from ..layers import check_divisible, check_input, drop_path
from .fuse import fuse_conv_bn, pad_kernel


def _conv_bn(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    conv = nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False)
    return nn.Sequential(OrderedDict(conv=conv, bn=nn.BatchNorm2d(cout)))


@register(
    "replknet",
    kind="block",
    inputs=(32, 16, 16),
    in_channels=32,
    out_channels=32,
    kernel_size=31,
    small_kernel=5,
)
class ReparamLargeKernelConv(nn.Module):
    """Large-kernel conv trained with a parallel small-kernel conv: ``BN(W_K * x) + BN(W_k * x)``.

    RepLKNet's depth-wise ``K x K`` conv (up to ``31 x 31``) is hard to optimise alone; a parallel small
    ``k x k`` conv-BN branch (``k = 5`` in RepLKNet) with the same stride and groups supplies the local prior.
    Both are linear in eval mode, so ``switch_to_deploy()`` folds each BN into its kernel, zero-pads the small
    kernel to ``K x K`` onto the large kernel's centre and keeps one large conv with bias. No activation.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: the odd large kernel size ``K`` (RepLKNet-31B: 31, 29, 27, 13 by stage).
        small_kernel: the odd small kernel size ``k <= K``; ``None`` leaves the small branch out.
        stride: stride of both branches.
        groups: groups of both branches; ``None`` gives ``in_channels`` (depth-wise, as in RepLKNet).
        deploy: build the conv directly in its fused form (official: ``small_kernel_merged``).

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> lk = cvattn.create("replknet", in_channels=32, out_channels=32, kernel_size=31, small_kernel=5).eval()
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = lk(x)
        >>> y.shape
        torch.Size([2, 32, 16, 16])
        >>> lk.switch_to_deploy()  # one depth-wise 31x31 conv from now on
        >>> torch.allclose(lk(x), y, atol=1e-5)
        True

    Deviations:
        ``groups`` defaults to depth-wise (the official argument is required). The official optional
        implicit-GEMM CUDA kernel for large depth-wise convs (``LARGE_KERNEL_CONV_IMPL``) is not used: it is
        a speed-up of the same conv.

    Reference:
        Ding, Zhang, Han, Ding. Scaling Up Your Kernels to 31x31: Revisiting Large Kernel Design in CNNs.
        CVPR 2022.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 31,
        small_kernel: int | None = 5,
        stride: int = 1,
        groups: int | None = None,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        groups = in_channels if groups is None else groups
        if kernel_size % 2 == 0 or (
            small_kernel is not None and (small_kernel % 2 == 0 or small_kernel > kernel_size)
        ):
            raise ValueError(
                f"ReparamLargeKernelConv: expected odd kernel sizes with small_kernel <= kernel_size, got "
                f"kernel_size={kernel_size}, small_kernel={small_kernel}"
            )
        check_divisible(in_channels, out_channels, groups)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.deploy = deploy
        k = kernel_size
        if deploy:
            self.fused_conv = nn.Conv2d(
                in_channels, out_channels, k, stride, k // 2, groups=groups, bias=True
            )
            return
        self.large = _conv_bn(in_channels, out_channels, k, stride, groups)
        self.small = (
            None
            if small_kernel is None
            else _conv_bn(in_channels, out_channels, small_kernel, stride, groups)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        if self.deploy:
            return self.fused_conv(x)
        y = self.large(x)
        if self.small is not None:
            y = y + self.small(x)
        return y

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """One ``K x K`` conv (with bias) equal to both branches in eval mode (new; the fused conv once deployed)."""
        if self.deploy:
            return self.fused_conv
        fused = fuse_conv_bn(self.large.conv, self.large.bn)
        if self.small is not None:
            small = fuse_conv_bn(self.small.conv, self.small.bn)
            fused.weight += pad_kernel(small.weight, self.kernel_size)
            fused.bias += small.bias
        return fused

    def switch_to_deploy(self) -> None:
        """Replace both branches by their fused conv, in place (eval-mode equivalent)."""
        if self.deploy:
            return
        self.fused_conv = self.fuse()
        del self.large, self.small
        self.deploy = True


@register(
    "replknet-block",
    kind="block",
    inputs=(32, 16, 16),
    channels=32,
    kernel_size=31,
    small_kernel=5,
)
class RepLKBlock(nn.Module):
    """RepLK block: ``x + conv_bn(ReLU(LK(conv_bn_relu(BN(x)))))`` with a re-parameterised large kernel.

    A pre-BN, a ``1 x 1`` conv-BN-ReLU to ``dw_channels``, the large-kernel depth-wise conv with its
    small-kernel branch (:class:`ReparamLargeKernelConv`), ReLU, a ``1 x 1`` conv-BN back to ``channels``,
    and an identity shortcut (with stochastic depth). ``switch_to_deploy()`` merges the large and small
    kernels; the ``1 x 1`` conv-BN pairs are left as they are, as in the official code.

    Args:
        channels: input and output channels.
        dw_channels: channels of the depth-wise large-kernel conv; ``None`` gives ``channels``
            (RepLKNet: ``dw_ratio = 1``).
        kernel_size: the large kernel size.
        small_kernel: the small kernel size (``None``: no small branch).
        drop_path: stochastic-depth rate of the residual branch.
        deploy: build the large-kernel conv directly in its fused form.

    Shape:
        - Input: ``(N, channels, H, W)``
        - Output: ``(N, channels, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("replknet-block", channels=32, kernel_size=13, small_kernel=5).eval()
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = block(x)
        >>> y.shape
        torch.Size([2, 32, 16, 16])
        >>> block.switch_to_deploy()
        >>> torch.allclose(block(x), y, atol=1e-5)
        True

    Reference:
        Ding, Zhang, Han, Ding. Scaling Up Your Kernels to 31x31: Revisiting Large Kernel Design in CNNs.
        CVPR 2022.
    """

    def __init__(
        self,
        channels: int,
        dw_channels: int | None = None,
        kernel_size: int = 31,
        small_kernel: int | None = 5,
        drop_path: float = 0.0,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        dw_channels = channels if dw_channels is None else dw_channels
        self.channels = channels
        self.drop_path = drop_path
        self.pre_bn = nn.BatchNorm2d(channels)
        self.pw1 = _conv_bn(channels, dw_channels, 1)
        self.pw1_act = nn.ReLU()
        self.large_kernel = ReparamLargeKernelConv(
            dw_channels, dw_channels, kernel_size, small_kernel, groups=dw_channels, deploy=deploy
        )
        self.lk_act = nn.ReLU()
        self.pw2 = _conv_bn(dw_channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        y = self.pw1_act(self.pw1(self.pre_bn(x)))
        y = self.pw2(self.lk_act(self.large_kernel(y)))
        return x + drop_path(y, self.drop_path, self.training)

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """The large-kernel conv fused with its small-kernel branch (the rest of the block is unchanged)."""
        return self.large_kernel.fuse()

    def switch_to_deploy(self) -> None:
        """Merge the small kernel into the large one, in place (eval-mode equivalent)."""
        self.large_kernel.switch_to_deploy()
