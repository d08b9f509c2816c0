"""Depthwise over-parameterised convolution (DO-Conv).

Paper: "DO-Conv: Depthwise Over-parameterized Convolutional Layer", Jinming Cao, Yangyan Li, Mingchao Sun,
Ying Chen, Dani Lischinski, Daniel Cohen-Or, Baoquan Chen, Changhe Tu, IEEE TIP 2022,
https://arxiv.org/abs/2006.12030.
Official code: https://github.com/yangyanli/DO-Conv (``do_conv_pytorch.py``, ``DOConv2d``; the folding in
``sample_pt_with_fusion.py``, ``save_with_fusion``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_divisible, check_input

_pair = nn.modules.utils._pair


@register("do-conv", kind="block", inputs=(32, 16, 16), in_channels=32, out_channels=32, kernel_size=3)
class DOConv2d(nn.Module):
    """DO-Conv: a convolution whose kernel is a trainable depthwise kernel ``D`` composed with ``W``.

    For an ``M x N`` kernel, each input channel ``c`` has a depthwise kernel ``D_c`` of shape
    ``(M N) x D_mul`` and the conventional kernel ``W`` has shape ``C_out x (C_in / g) x D_mul``. The layer
    convolves with the composed kernel ``W'[o, i, m] = sum_s D[i, m, s] W[o, i, s]`` (an ``einsum``),
    which is the same as applying ``D`` to the input patches and then ``W`` (the paper's "feature
    composition"). ``D`` is stored as ``D + D_diag``, a trainable ``D`` initialised to zero plus a fixed
    ``D_diag`` of tiled identities, so the layer starts as the plain convolution with kernel ``W``. With
    ``D_mul >= M N`` the composition can only enlarge the training-time parameter space: after training,
    ``fuse()`` / ``switch_to_deploy()`` fold ``D`` into ``W`` and leave one ``nn.Conv2d`` with exactly a
    plain convolution's parameters and cost. For a ``1 x 1`` kernel there is no ``D`` and ``W`` is the kernel.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size ``M x N`` (int or pair).
        stride: stride.
        padding: zero padding (int or pair), as ``nn.Conv2d``.
        dilation: dilation.
        groups: groups: DO-Conv for 1, DO-DConv for ``in_channels``, DO-GConv otherwise.
        bias: learn a bias.
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        D_mul: depth multiplier ``D_mul >= M N`` of ``D`` (``None``: ``M N``, as official).
        deploy: build the layer directly in its folded form (one ``nn.Conv2d``), e.g. to load fused weights.

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("do-conv", in_channels=32, out_channels=64, kernel_size=3, padding=1)
        >>> x = torch.randn(2, 32, 16, 16)
        >>> y = conv(x)
        >>> y.shape
        torch.Size([2, 64, 16, 16])
        >>> conv.switch_to_deploy()  # one plain 3x3 conv from now on
        >>> torch.allclose(conv(x), y, atol=1e-5)
        True

    Deviations:
        ``D_mul`` follows ``nn.Conv2d``'s arguments (official: the fourth positional argument). ``D_diag`` is
        a persistent buffer (official: a ``Parameter`` with ``requires_grad=False``; the state-dict keys
        ``W``, ``D``, ``d_diag``, ``bias`` are the same), so ``parameters()`` lists only what is trained.
        ``D_mul < M N`` is refused (the paper requires ``D_mul >= M N``; the official layer then starts
        from an all-zero kernel). A non-zero ``padding_mode`` pads as ``nn.Conv2d`` does (width, then
        height); the official layer swaps the two for unequal paddings. For ``1 < groups < out_channels``
        the kernel is composed exactly as the official reshape does, which pairs output channel ``o``'s
        slice ``i`` with ``D`` of channel ``(o mod g) C_in / g + i`` rather than of the input channel it
        convolves; the result is still one convolution, and identical for ``groups = 1`` and depthwise.

    Reference:
        Cao, Li, Sun, Chen, Lischinski, Cohen-Or, Chen, Tu. DO-Conv: Depthwise Over-parameterized
        Convolutional Layer. IEEE TIP 2022.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        D_mul: int | None = None,
        deploy: bool = False,
    ) -> None:
        super().__init__()
        check_divisible(in_channels, out_channels, groups)
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"DOConv2d: unknown padding_mode {padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation = _pair(padding), _pair(dilation)
        self.padding_mode = padding_mode
        self.deploy = deploy
        taps = self.kernel_size[0] * self.kernel_size[1]  # M * N
        if taps > 1 and D_mul is not None and D_mul < taps:
            raise ValueError(f"DOConv2d: D_mul must be >= M * N = {taps}, got {D_mul}")
        self.D_mul = taps if D_mul is None or taps == 1 else D_mul
        self.over_parameterised = taps > 1
        if deploy:
            self.fused_conv = self._plain_conv(bias)
            return

        self.W = nn.Parameter(torch.empty(out_channels, in_channels // groups, self.D_mul))
        nn.init.kaiming_uniform_(self.W, a=math.sqrt(5))
        if self.over_parameterised:
            self.D = nn.Parameter(torch.zeros(in_channels, taps, self.D_mul))
            # D_diag: identities tiled along D_mul, zero columns for the remainder: (C_in, M*N, D_mul)
            eye = torch.eye(taps).repeat(1, self.D_mul // taps)
            d_diag = torch.cat([eye, torch.zeros(taps, self.D_mul % taps)], 1)
            self.register_buffer("d_diag", d_diag.expand(in_channels, -1, -1).contiguous())
        if bias:
            bound = 1 / math.sqrt(in_channels // groups * self.D_mul)  # 1 / sqrt(fan_in of W)
            self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound, bound))
        else:
            self.register_parameter("bias", None)

    def _plain_conv(self, bias: bool) -> nn.Conv2d:
        return nn.Conv2d(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            bias=bias,
            padding_mode=self.padding_mode,
        )

    def composed_kernel(self) -> torch.Tensor:
        """The kernel ``W'`` that the layer convolves with: ``(C_out, C_in / g, M, N)``."""
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        if not self.over_parameterised:
            return self.W.reshape(shape)  # 1x1: D_mul = 1, W is the kernel
        D = self.D + self.d_diag  # (C_in, M*N, D_mul)
        W = self.W.reshape(self.out_channels // self.groups, self.in_channels, self.D_mul)
        DoW = torch.einsum("ims,ois->oim", D, W)  # (C_out / g, C_in, M*N)
        return DoW.reshape(shape)  # (C_out, C_in / g, M, N)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        if self.deploy:
            return self.fused_conv(x)
        padding = self.padding
        if self.padding_mode != "zeros":
            p_h, p_w = self.padding
            x = F.pad(x, (p_w, p_w, p_h, p_h), mode=self.padding_mode)
            padding = (0, 0)
        return F.conv2d(
            x, self.composed_kernel(), self.bias, self.stride, padding, self.dilation, self.groups
        )

    @torch.no_grad()
    def fuse(self) -> nn.Conv2d:
        """A plain ``nn.Conv2d`` with the composed kernel, equal to this layer (new; the fused conv once deployed)."""
        if self.deploy:
            return self.fused_conv
        conv = self._plain_conv(self.bias is not None).to(device=self.W.device, dtype=self.W.dtype)
        conv.weight.copy_(self.composed_kernel())
        if self.bias is not None:
            conv.bias.copy_(self.bias)
        return conv

    def switch_to_deploy(self) -> None:
        """Replace ``W``, ``D`` and ``D_diag`` by the folded conv, in place."""
        if self.deploy:
            return
        self.fused_conv = self.fuse()
        for name in ("W", "D", "d_diag", "bias"):
            if hasattr(self, name):
                delattr(self, name)
        self.deploy = True
