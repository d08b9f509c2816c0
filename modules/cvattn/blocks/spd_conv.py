"""SPD-Conv: space-to-depth followed by a non-strided convolution.

Paper: "No More Strided Convolutions or Pooling: A New CNN Building Block for Low-Resolution Images and Small
Objects", Raja Sunkara, Tie Luo, ECML PKDD 2022, https://arxiv.org/abs/2208.03641. Official code:
https://github.com/LabSAINT/SPD-Conv (``space_to_depth`` and ``Focus`` in ``ResNet50-SPD/models/resnet50_spd.py``
and ``YOLOv5-SPD/models/common.py``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, is_channels_last


@register(
    "spd-conv", kind="block", inputs=(32, 16, 16), odd_inputs=(32, 14, 18), in_channels=32, out_channels=64
)
class SPDConv(nn.Module):
    """SPD-Conv: down-sample without discarding pixels, by moving them into channels, then a stride-1 conv.

    A strided conv or a pooling layer throws away (or averages) the pixels between its sampling points,
    which hurts on low-resolution images and small objects. The space-to-depth (SPD) layer instead cuts
    the ``(C, H, W)`` map into the ``scale^2`` sub-maps ``f_{i,j} = X[:, i::scale, j::scale]`` and stacks
    them along channels, in the paper's order ``f_{0,0}, f_{1,0}, ..., f_{scale-1,0}, f_{0,1}, ...`` (row
    offset fastest), giving ``(scale^2 C, H / scale, W / scale)`` with every pixel kept. A non-strided
    ``K x K`` conv (+ BN + activation) then maps the ``scale^2 C`` channels to ``out_channels``, learning
    what to keep.

    Args:
        in_channels: input channels ``C``.
        out_channels: output channels of the conv (the paper keeps them below ``scale^2 C``).
        kernel_size: kernel of the non-strided conv (official YOLOv5-SPD/ResNet-SPD stems: 3).
        scale: the down-sampling factor of the SPD layer (paper: 2).
        bias: conv bias (False: the conv is followed by BN).
        norm_layer: normalisation after the conv (BatchNorm2d).
        act_layer: activation after the normalisation (official ``Conv``: SiLU).

    Shape:
        - Input: ``(N, in_channels, H, W)`` with ``H`` and ``W`` divisible by ``scale``
        - Output: ``(N, out_channels, H / scale, W / scale)``

    Examples:
        >>> import torch, cvattn
        >>> spd = cvattn.create("spd-conv", in_channels=32, out_channels=64)
        >>> spd(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 8, 8])

    Deviations:
        The official layer is written for ``scale = 2`` only; ``scale`` generalises it with the paper's
        sub-map order. A height or width not divisible by ``scale`` raises ``ValueError`` (the official
        concatenation fails on it).

    Reference:
        Sunkara and Luo. No More Strided Convolutions or Pooling: A New CNN Building Block for
        Low-Resolution Images and Small Objects. ECML PKDD 2022.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        scale: int = 2,
        bias: bool = False,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.SiLU,
    ) -> None:
        super().__init__()
        if scale < 1:
            raise ValueError(f"scale must be a positive integer, got {scale}")
        self.in_channels = in_channels
        self.scale = scale
        self.conv = ConvNormAct(
            scale * scale * in_channels,
            out_channels,
            kernel_size,
            bias=bias,
            norm_layer=norm_layer,
            act_layer=act_layer,
        )

    def space_to_depth(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, scale^2 C, H / scale, W / scale)``, sub-map ``f_{i,j}`` at block ``j scale + i``."""
        s = self.scale
        h, w = x.shape[-2:]
        if not isinstance(x, fx.Proxy) and (h % s or w % s):
            raise ValueError(f"expected H and W divisible by scale={s}, got {tuple(x.shape)}")
        n, c = x.shape[:2]
        z = x.reshape(n, c, h // s, s, w // s, s)  # (N, C, H/s, i, W/s, j), a view
        if is_channels_last(x):
            # (N, H/s, W/s, j, i, C): one copy, handed on channels_last as it came
            z = z.permute(0, 2, 4, 5, 3, 1).reshape(n, h // s, w // s, s * s * c)
            return z.permute(0, 3, 1, 2)
        return z.permute(0, 5, 3, 1, 2, 4).reshape(
            n, s * s * c, h // s, w // s
        )  # f_{i,j}, i fastest: one copy

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        return self.conv(self.space_to_depth(x))
