"""Weight Excitation: attention on convolution weights.

Paper: "Weight Excitation: Built-in Attention Mechanisms in Convolutional Neural Networks", Niamul Quader,
Md Mafijul Islam Bhuiyan, Juwei Lu, Peng Dai, Wei Li, ECCV 2020,
https://www.ecva.net/papers/eccv_2020/papers_ECCV/html/7039_ECCV_2020_paper.php.
Official code: none released with the paper; a reference implementation (``Conv2d`` with LWE and MWE, with
the comment "See paper for more details") circulates in several public repositories and is followed here.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_divisible, check_input, create_act

_pair = nn.modules.utils._pair


@register(
    "weight-excitation",
    kind="block",
    inputs=(32, 16, 16),
    in_channels=32,
    out_channels=64,
    kernel_size=3,
)
class WeightExcitationConv2d(nn.Module):
    """Weight Excitation convolution: ``nn.Conv2d`` whose kernel is re-weighted by attention on the weights.

    The convolution uses an excited kernel computed from its own weight ``W`` (``C_out x C_in/g x k x k``):

    - location-based WE (LWE): each output channel's kernels are average-pooled over ``k x k`` into a
      ``C_in/g`` vector, passed through ``FC -> ReLU -> FC -> sigmoid`` (``C_in/g -> C_in/r -> C_in/g``,
      shared by all output channels), and every ``k x k`` kernel is scaled by its attention value:
      ``W_L[o, i] = W[o, i] * a[o, i]``;
    - magnitude-based WE (MWE): ``W_M = M_A * atanh(W_L / M_A)`` with ``M_A = (1 + eps_A) max|W_L|``, which
      amplifies large weights and their gradients (``dW_M/dW_L = M_A^2 / (M_A^2 - W_L^2)`` at fixed ``M_A``).

    The excited kernel depends only on the parameters, so after training it can be folded into a plain
    convolution (:meth:`to_conv2d`) and inference costs nothing extra.

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel_size: kernel size.
        stride: stride.
        padding: padding.
        dilation: dilation.
        groups: groups.
        bias: learn an output bias (not excited).
        reduction: reduction of the LWE sub-network, hidden width ``max(in_channels // reduction, 1)``
            (reference code: 16).
        eps_a: margin ``eps_A`` of MWE, ``M_A = (1 + eps_A) max|W|`` (paper: ``0 < eps_A < 0.2``; reference
            code: 0.1).
        lwe: apply location-based WE.
        mwe: apply magnitude-based WE.
        standardize: standardise the weight (zero mean, unit std per output channel, as Weight
            Standardization) before the excitation; optional in the reference code (default false).
        act_layer: activation of the LWE sub-network (ReLU).

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments.

    Examples:
        >>> import torch, cvattn
        >>> conv = cvattn.create("weight-excitation", in_channels=32, out_channels=64, kernel_size=3, padding=1)
        >>> conv(torch.randn(2, 32, 16, 16)).shape
        torch.Size([2, 64, 16, 16])
        >>> plain = conv.to_conv2d()  # folded for inference
        >>> torch.allclose(plain(torch.ones(1, 32, 8, 8)), conv(torch.ones(1, 32, 8, 8)), atol=1e-5)
        True

    Deviations:
        No official code was released; the defaults (``reduction=16``, ``eps_a=0.1``, LWE before MWE, ``M_A``
        from the LWE-excited weight and not detached) follow the reference implementation that circulates
        with the paper. That code skips MWE on the first forward pass of a layer; here MWE is applied on
        every pass. Its weight standardisation is always on but marked optional; here it is off by default
        (``standardize=True`` restores it). The first LWE layer's bias starts at zero instead of PyTorch's
        uniform default: the pooled kernel values are of order 1e-2, so at initialisation the bias alone
        decides the ReLU and could switch every hidden unit off (no gradient to the sub-network).

    Reference:
        Quader, Bhuiyan, Lu, Dai, Li. Weight Excitation: Built-in Attention Mechanisms in Convolutional Neural
        Networks. ECCV 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 3,
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        reduction: int = 16,
        eps_a: float = 0.1,
        lwe: bool = True,
        mwe: bool = True,
        standardize: bool = False,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        check_divisible(in_channels, out_channels, groups)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = _pair(kernel_size), _pair(stride)
        self.padding, self.dilation, self.groups = _pair(padding), _pair(dilation), groups
        self.eps_a, self.lwe, self.mwe, self.standardize = eps_a, lwe, mwe, standardize
        fan_in = in_channels // groups
        self.weight = nn.Parameter(torch.empty(out_channels, fan_in, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Conv2d's initialisation
        if self.bias is not None:
            bound = 1 / math.sqrt(fan_in * self.kernel_size[0] * self.kernel_size[1])
            nn.init.uniform_(self.bias, -bound, bound)
        if lwe:
            hidden = max(in_channels // reduction, 1)
            self.fc1 = nn.Linear(fan_in, hidden)
            self.act = create_act(act_layer, inplace=True)
            self.fc2 = nn.Linear(hidden, fan_in)
            nn.init.zeros_(self.fc1.bias)  # see Deviations

    def excited_weight(self) -> torch.Tensor:
        """The kernel the convolution uses: ``W`` after (optional) standardisation, LWE and MWE."""
        w = self.weight
        if self.standardize:
            w = w - w.mean((1, 2, 3), keepdim=True)
            w = w / (w.flatten(1).std(1).view(-1, 1, 1, 1) + 1e-5)
        if self.lwe:
            a = torch.sigmoid(self.fc2(self.act(self.fc1(w.mean((2, 3))))))  # per kernel: (C_out, C_in/g)
            w = w * a[:, :, None, None]
        if self.mwe:
            m_a = (1 + self.eps_a) * w.abs().amax()
            w = m_a * torch.atanh(w / m_a)
        return w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        return F.conv2d(
            x, self.excited_weight(), self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    @torch.no_grad()
    def to_conv2d(self) -> nn.Conv2d:
        """A plain ``nn.Conv2d`` holding the excited kernel (and the bias): the same map, for inference."""
        conv = nn.Conv2d(
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
            bias=self.bias is not None,
        ).to(self.weight)
        conv.weight.copy_(self.excited_weight())
        if self.bias is not None:
            conv.bias.copy_(self.bias)
        return conv
