"""Switchable Atrous Convolution (SAC) of DetectoRS.

Paper: "DetectoRS: Detecting Objects with Recursive Feature Pyramid and Switchable Atrous Convolution", Siyuan
Qiao, Liang-Chieh Chen, Alan Yuille, CVPR 2021, https://arxiv.org/abs/2006.02334. Official code:
https://github.com/joe-siyuan-qiao/DetectoRS (``mmdet/ops/saconv.py``, ``SAConv2d``, on ``ConvAWS2d`` of
``mmdet/ops/conv_ws.py``); the deformable sampling is written here in PyTorch (``grid_sample``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import check_input


@fx.wrap
def _deform_conv2d(
    x: torch.Tensor,
    offset: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
) -> torch.Tensor:
    """Deformable convolution (DCN v1, one offset group): bilinear samples, zero outside, then a matmul."""
    n, c, h, w = x.shape
    c_out, _, kh, kw = weight.shape
    ho, wo = offset.shape[-2:]
    offset = offset.view(n, kh * kw, 2, ho, wo)  # (dy, dx) per kernel tap, taps in row-major order
    ys = torch.arange(ho, dtype=x.dtype, device=x.device) * stride[0] - padding[0]
    xs = torch.arange(wo, dtype=x.dtype, device=x.device) * stride[1] - padding[1]
    tap_y = torch.arange(kh, dtype=x.dtype, device=x.device).repeat_interleave(kw) * dilation[0]
    tap_x = torch.arange(kw, dtype=x.dtype, device=x.device).repeat(kh) * dilation[1]
    py = ys.view(1, 1, ho, 1) + tap_y.view(1, -1, 1, 1) + offset[:, :, 0]  # (N, K*K, Ho, Wo) in pixels
    px = xs.view(1, 1, 1, wo) + tap_x.view(1, -1, 1, 1) + offset[:, :, 1]
    grid = torch.stack(((2 * px + 1) / w - 1, (2 * py + 1) / h - 1), -1)  # grid_sample's [-1, 1]
    cols = F.grid_sample(x, grid.view(n, -1, wo, 2), "bilinear", "zeros", align_corners=False)
    cols = cols.view(n, groups, (c // groups) * kh * kw, ho * wo)  # (N, G, C/G*K*K, Ho*Wo)
    out = torch.matmul(weight.view(groups, c_out // groups, -1), cols).view(n, c_out, ho, wo)
    return out if bias is None else out + bias.view(1, -1, 1, 1)


@register(
    "sac",
    kind="block",
    inputs=(32, 16, 16),
    in_channels=32,
    out_channels=32,
    kernel_size=3,
    padding=1,
    use_deform=True,
    official_init=False,
)
class SAConv2d(nn.Conv2d):
    """Switchable atrous convolution: a soft switch between dilation ``d`` and ``3d``, with global context.

    ``x <- x + Conv1x1(GAP(x))`` (pre-context), then
    ``y = S(x) Conv(x, w, d) + (1 - S(x)) Conv(x, w + dw, 3d)``, where the switch ``S`` is a 1x1 conv of the
    5x5 average of ``x`` (reflect-padded), ``w`` is the weight after weight standardisation with an
    affine (``ConvAWS2d``: per output channel, zero mean and unit standard deviation, then
    ``gamma * w + beta``) and ``dw`` a learned difference for the large dilation, and finally
    ``y <- y + Conv1x1(GAP(y))`` (post-context). With ``use_deform`` both convolutions are deformable, their
    offsets predicted by 3x3 convs from the averaged input. The switch starts at 1 and ``dw``, the contexts
    and the offsets at 0, so a pretrained convolution is reproduced at the start.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size (3 in DetectoRS; ``use_deform`` needs an odd square kernel).
        stride: stride.
        padding: padding of the small-dilation convolution (the large one uses ``3 * padding``).
        dilation: the small dilation ``d`` (the large one is ``3 * d``).
        groups: groups of both convolutions.
        bias: learn a bias (shared by both dilations).
        use_deform: deformable convolutions, as in DetectoRS's configurations (the official class defaults
            to ``False``).
        official_init: start the switch's 1x1 weight at zero (bias 1), as the official code, so that the
            switch is exactly 1; ``False`` keeps PyTorch's default for that weight (bias still 1).

    Shape:
        - Input: ``(N, C_in, H, W)``, ``H, W >= 3`` (the switch's reflect padding)
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments.

    Examples:
        >>> import torch, cvattn
        >>> sac = cvattn.create("sac", in_channels=32, out_channels=64, stride=2)
        >>> sac(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 8, 8])

    Deviations:
        The registered configuration passes ``official_init=False``: with the official switch (exactly 1 at
        the start) the large-dilation branch gets no gradient at the first step, which the package's
        gradient check rejects; the class default is the official initialisation. The deformable convolutions are computed with ``grid_sample`` and a matmul instead of mmcv's CUDA
        kernel (the same bilinear sampling with zeros outside; checked against a pure-PyTorch reading of
        the kernel). The offset convs produce ``2 * K * K`` channels (the official hard-codes 18, i.e.
        ``K = 3``). With ``use_deform`` and ``bias=True`` the bias is added to both branches, as on the plain
        path; the official deformable call passes no bias (DetectoRS's ResNet convolutions have none).

    Reference:
        Qiao et al. DetectoRS: Detecting Objects with Recursive Feature Pyramid and Switchable Atrous
        Convolution. CVPR 2021.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = True,
        use_deform: bool = False,
        official_init: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias)
        self.use_deform = use_deform
        self.register_buffer("weight_gamma", torch.ones(out_channels, 1, 1, 1))
        self.register_buffer("weight_beta", torch.zeros(out_channels, 1, 1, 1))
        self.switch = nn.Conv2d(in_channels, 1, 1, stride)
        self.weight_diff = nn.Parameter(torch.zeros_like(self.weight))
        self.pre_context = nn.Conv2d(in_channels, in_channels, 1)
        self.post_context = nn.Conv2d(out_channels, out_channels, 1)
        nn.init.constant_(self.switch.bias, 1.0)
        if official_init:
            nn.init.zeros_(self.switch.weight)
        for conv in (self.pre_context, self.post_context):
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)
        if use_deform:
            k = self.kernel_size
            self.offset_s = nn.Conv2d(in_channels, 2 * k[0] * k[1], 3, stride, 1)
            self.offset_l = nn.Conv2d(in_channels, 2 * k[0] * k[1], 3, stride, 1)
            for conv in (self.offset_s, self.offset_l):
                nn.init.zeros_(conv.weight)
                nn.init.zeros_(conv.bias)
        self.large_padding = tuple(3 * p for p in self.padding)
        self.large_dilation = tuple(3 * d for d in self.dilation)

    def standardized_weight(self) -> torch.Tensor:
        """The kernel after weight standardisation with its affine (``ConvAWS2d``)."""
        w = self.weight - self.weight.mean((1, 2, 3), keepdim=True)
        std = (w.flatten(1).var(1) + 1e-5).sqrt().view(-1, 1, 1, 1)
        return self.weight_gamma * (w / std) + self.weight_beta

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        # As ConvAWS2d: a checkpoint of a plain conv (no gamma) gets gamma and beta that reproduce its kernel.
        self.weight_gamma.fill_(-1)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if self.weight_gamma.mean() > 0:
            return
        weight = self.weight.detach()
        self.weight_beta.copy_(weight.mean((1, 2, 3), keepdim=True))
        self.weight_gamma.copy_((weight.flatten(1).var(1) + 1e-5).sqrt().view(-1, 1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        # One layout: standardised weights make the outputs large (of order sqrt(fan_in)), so the other
        # summation order of a channels_last input would shift them by more than float32's usual 1e-5.
        x = x.contiguous()
        x = x + self.pre_context(F.adaptive_avg_pool2d(x, 1))  # pre-context
        avg_x = F.avg_pool2d(F.pad(x, (2, 2, 2, 2), mode="reflect"), 5, 1)
        s = self.switch(avg_x)  # switch S(x): (N, 1, H', W')
        w = self.standardized_weight()
        w_large = w + self.weight_diff
        if self.use_deform:
            y_s = _deform_conv2d(
                x, self.offset_s(avg_x), w, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
            y_l = _deform_conv2d(
                x,
                self.offset_l(avg_x),
                w_large,
                self.bias,
                self.stride,
                self.large_padding,
                self.large_dilation,
                self.groups,
            )
        else:
            y_s = F.conv2d(x, w, self.bias, self.stride, self.padding, self.dilation, self.groups)
            y_l = F.conv2d(
                x, w_large, self.bias, self.stride, self.large_padding, self.large_dilation, self.groups
            )
        y = s * y_s + (1 - s) * y_l
        return y + self.post_context(F.adaptive_avg_pool2d(y, 1))  # post-context
