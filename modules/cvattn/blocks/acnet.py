"""Asymmetric Convolution Block (ACNet).

Paper: "ACNet: Strengthening the Kernel Skeletons for Powerful CNN via Asymmetric Convolution Blocks",
Xiaohan Ding, Yuchen Guo, Guiguang Ding, Jungong Han, ICCV 2019, https://arxiv.org/abs/1908.03930.
Official code: https://github.com/DingXiaoH/ACNet (``acnet/acb.py``, ``ACBlock``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input
from .fuse import fuse_conv_bn


@register("acnet", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32, kernel_size=3)
class ACBlock(nn.Module):
    """Asymmetric convolution block: a KxK, a 1xK and a Kx1 conv, each with BN, summed.

    During training the block computes ``BN_s(W_s * x) + BN_h(W_h * x) + BN_v(W_v * x)`` with a square
    ``K x K`` kernel ``W_s``, a horizontal ``1 x K`` kernel ``W_h`` and a vertical ``K x 1`` kernel ``W_v``,
    aligned so that the two asymmetric kernels slide over the centre row and column (the "skeleton") of
    the square one. Convolution is additive, so after training each BN is folded into its conv
    (:func:`~cvattn.blocks.fuse.fuse_conv_bn`) and the two asymmetric kernels are added onto the centre
    row and column of the square kernel: ``switch_to_deploy()`` replaces the block by that single plain
    ``K x K`` conv (with bias), which gives the same output in eval mode at no extra inference cost.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: the square kernel's size ``K`` (odd; paper: 3).
        stride: stride of the three convs.
        padding: zero padding of the square conv; ``None`` gives ``dilation * (K // 2)`` ("same"). The
            asymmetric convs get the padding that aligns them with the square kernel's centre.
        dilation: dilation of the three convs.
        groups: groups of the three convs.
        bias: add a bias to the square conv (as ``nn.Conv2d(bias=True)`` would before BN; official: False).
        padding_mode: ``nn.Conv2d`` padding mode (``"zeros"``, ``"reflect"``, ``"replicate"``, ``"circular"``).
        deploy: build the block directly in its fused form (one ``K x K`` conv with bias), e.g. to load
            fused weights.

    Shape:
        - Input: ``(N, in_channels, H, W)``
        - Output: ``(N, out_channels, H', W')``, ``H' = (H + 2 padding - dilation (K - 1) - 1) // stride + 1``

    Examples:
        >>> import torch, cvattn
        >>> acb = cvattn.create("acnet", in_channels=32, out_channels=64, kernel_size=3).eval()
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = acb(x)
        >>> y.shape
        torch.Size([2, 64, 16, 16])
        >>> acb.switch_to_deploy()  # one plain 3x3 conv from now on
        >>> torch.allclose(acb(x), y, atol=1e-5)
        True

    Deviations:
        ``padding`` defaults to "same" instead of the official 0 (a drop-in for a padded ``K x K`` conv).
        The asymmetric branches are aligned with ``dilation * (K // 2)`` instead of the official ``K // 2``,
        so that the block also stays fusable for ``dilation > 1`` (identical for ``dilation = 1``). Even
        kernel sizes are refused (the branches' output sizes would differ). The official ``use_affine``,
        ``reduce_gamma`` and ``gamma_init`` initialisation options are left out.

    Reference:
        Ding, Guo, Ding, Han. ACNet: Strengthening the Kernel Skeletons for Powerful CNN via Asymmetric
        Convolution Blocks. ICCV 2019.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int | None = None,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = False,
        padding_mode: str = "zeros",
        deploy: bool = False,
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"ACBlock: expected an odd kernel_size, got {kernel_size}")
        centre = dilation * (kernel_size // 2)  # offset of the square kernel's centre tap
        padding = centre if padding is None else padding
        if padding < 0:
            raise ValueError(f"ACBlock: expected padding >= 0, got {padding}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.deploy = deploy

        def conv(kernel, pad, with_bias=False):
            return nn.Conv2d(
                in_channels,
                out_channels,
                kernel,
                stride,
                pad,
                dilation,
                groups,
                bias=with_bias,
                padding_mode=padding_mode,
            )

        if deploy:
            self.fused_conv = conv(kernel_size, padding, with_bias=True)
            return
        self.square_conv = conv(kernel_size, padding, with_bias=bias)
        self.square_bn = nn.BatchNorm2d(out_channels)
        # padding below the centre offset is a crop of the input (Conv2d takes no negative padding)
        self.crop = max(0, centre - padding)
        shift = max(0, padding - centre)
        self.hor_conv = conv((1, kernel_size), (shift, padding))
        self.hor_bn = nn.BatchNorm2d(out_channels)
        self.ver_conv = conv((kernel_size, 1), (padding, shift))
        self.ver_bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        if self.deploy:
            return self.fused_conv(x)
        x_h, x_v = x, x
        if self.crop > 0:
            c = self.crop
            x_h = x[:, :, c:-c, :]  # rows outside the horizontal kernel's reach
            x_v = x[:, :, :, c:-c]
        y_square = self.square_bn(self.square_conv(x))
        y_hor = self.hor_bn(self.hor_conv(x_h))
        y_ver = self.ver_bn(self.ver_conv(x_v))
        return y_square + y_hor + y_ver

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """A plain ``K x K`` conv (with bias) equal to this block in eval mode (new; the fused conv once deployed)."""
        if self.deploy:
            return self.fused_conv
        square = fuse_conv_bn(self.square_conv, self.square_bn)
        hor = fuse_conv_bn(self.hor_conv, self.hor_bn)
        ver = fuse_conv_bn(self.ver_conv, self.ver_bn)
        c = self.kernel_size // 2
        square.weight[:, :, c : c + 1, :] += hor.weight  # 1 x K onto the centre row
        square.weight[:, :, :, c : c + 1] += ver.weight  # K x 1 onto the centre column
        square.bias += hor.bias + ver.bias
        return square

    def switch_to_deploy(self) -> None:
        """Replace the three branches by their fused conv, in place (eval-mode equivalent)."""
        if self.deploy:
            return
        self.fused_conv = self.fuse()
        for name in ("square_conv", "square_bn", "hor_conv", "hor_bn", "ver_conv", "ver_bn"):
            delattr(self, name)
        self.deploy = True
