"""Dynamic ReLU: a piecewise-linear activation whose slopes and intercepts a hyper function predicts per input.

Paper: "Dynamic ReLU", Yinpeng Chen, Xiyang Dai, Mengchen Liu, Dongdong Chen, Lu Yuan, Zicheng Liu, ECCV 2020,
https://arxiv.org/abs/2003.10027. No code came with the paper; this follows its equations. The authors' later
``DYReLU`` in Dynamic Head (https://github.com/microsoft/DynamicHead, ``dyhead/dyrelu.py``) differs as each
class's Deviations say.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


class _DynamicReLUBase(nn.Module):
    """The hyper function ``theta(x)`` (global average, FC, ReLU, FC, ``2 sigmoid - 1``) and the max of ``K`` lines."""

    def __init__(
        self,
        channels: int,
        k: int,
        reduction: int,
        lambda_a: float,
        lambda_b: float,
        act_layer: LayerType,
        per_channel: bool,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.k = k
        self.per_channel = per_channel
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Linear(channels, hidden)
        self.act = create_act(act_layer, inplace=True)
        self.fc2 = nn.Linear(hidden, 2 * k * (channels if per_channel else 1))
        # initial coefficients: a^1 = 1, a^k = 0 otherwise, b^k = 0 (the function starts near ReLU)
        init = torch.zeros(2 * k)
        init[0] = 1.0
        self.register_buffer("init", init.view(1, 2 * k, 1), persistent=False)
        scale = torch.tensor([lambda_a] * k + [lambda_b] * k)
        self.register_buffer("scale", scale.view(1, 2 * k, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n = x.shape[0]
        delta = 2 * torch.sigmoid(self.fc2(self.act(self.fc1(x.mean((2, 3)))))) - 1  # residuals in [-1, 1]
        delta = delta.view(n, 2 * self.k, -1)  # (N, 2K, C) or (N, 2K, 1): [a^1..a^K, b^1..b^K]
        coef = (self.init + self.scale * delta).unsqueeze(-1).unsqueeze(-1)  # (N, 2K, C|1, 1, 1)
        out = coef[:, 0] * x + coef[:, self.k]  # y = max_k (a^k x + b^k)
        for j in range(1, self.k):
            out = torch.maximum(out, coef[:, j] * x + coef[:, self.k + j])
        return out


@register("dynamic-relu", kind="activation", inputs=(64, 14, 14), channels=64)
class DynamicReLU(_DynamicReLUBase):
    """DY-ReLU-B: a per-channel, spatially shared dynamic ReLU (the paper's default).

    ``y_c = max_k (a_c^k(x) x_c + b_c^k(x))`` with ``a_c^k = alpha^k + lambda_a Delta a_c^k(x)`` and
    ``b_c^k = beta^k + lambda_b Delta b_c^k(x)``; the ``2KC`` residuals come from a hyper function like an
    SE branch (global average pooling, FC, ReLU, FC) normalised by ``2 sigmoid - 1``. With ``K = 2``,
    ``alpha^1 = 1`` and ``alpha^2 = beta^1 = beta^2 = 0`` the activation starts near ReLU and adapts the
    shape of each channel's piecewise-linear function to the whole input.

    Args:
        channels: input channels ``C``.
        k: number of linear pieces ``K`` (2).
        reduction: reduction of the hyper function's first FC.
        lambda_a: range of the slope residuals (1.0).
        lambda_b: range of the intercept residuals (0.5).
        act_layer: activation inside the hyper function (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> act = cvattn.create("dynamic-relu", channels=64)
        >>> act(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        No code came with the paper. The residuals are read in the paper's order (all ``a`` then all ``b``,
        each over ``k`` then ``c``) and normalised by ``2 sigmoid - 1``; the authors' ``DYReLU`` in Dynamic Head
        orders them ``a^1, b^1, a^2, b^2`` and uses a hard sigmoid. The reduction ratio 4 is that code's
        default; the paper's value could not be checked here.

    Reference:
        Chen et al. Dynamic ReLU. ECCV 2020.
    """

    def __init__(
        self,
        channels: int,
        k: int = 2,
        reduction: int = 4,
        lambda_a: float = 1.0,
        lambda_b: float = 0.5,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__(channels, k, reduction, lambda_a, lambda_b, act_layer, per_channel=True)


@register("dynamic-relu-a", kind="activation", inputs=(64, 14, 14), channels=64)
class DynamicReLUA(_DynamicReLUBase):
    """DY-ReLU-A: one dynamic piecewise-linear function shared by all channels and positions.

    As DY-ReLU-B (:class:`DynamicReLU`) with only ``2K`` coefficients ``(a^k, b^k)`` per input, used
    for every channel; the paper finds it weaker than B for classification.

    Args:
        channels: input channels ``C``.
        k: number of linear pieces ``K`` (2).
        reduction: reduction of the hyper function's first FC.
        lambda_a: range of the slope residuals (1.0).
        lambda_b: range of the intercept residuals (0.5).
        act_layer: activation inside the hyper function (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> act = cvattn.create("dynamic-relu-a", channels=64)
        >>> act(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        No code came with the paper; as for DY-ReLU-B, the reduction ratio (4) is the default of the authors'
        Dynamic Head code and could not be checked against the paper here.

    Reference:
        Chen et al. Dynamic ReLU. ECCV 2020.
    """

    def __init__(
        self,
        channels: int,
        k: int = 2,
        reduction: int = 4,
        lambda_a: float = 1.0,
        lambda_b: float = 0.5,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__(channels, k, reduction, lambda_a, lambda_b, act_layer, per_channel=False)


@register("dynamic-relu-c", kind="activation", inputs=(64, 14, 14), channels=64)
class DynamicReLUC(_DynamicReLUBase):
    """DY-ReLU-C: a dynamic ReLU that varies over channels and over positions.

    The channel-wise function of DY-ReLU-B (:class:`DynamicReLU`) times a spatial attention ``pi``:
    ``y_{c,h,w} = max_k (a_c^k(x) x_{c,h,w} + b_c^k(x)) * pi_{h,w}(x)`` with
    ``pi_{h,w} = min(gamma * softmax_{h,w}(z / tau), 1)``, where ``z`` is a 1x1 convolution of the input to one
    map followed by batch normalisation, the softmax runs over the ``H x W`` positions of each sample and
    ``gamma = H W / 3`` (with ``tau = 1`` a position of average weight gets ``pi = 1/3``; ``pi`` reaches 1 at
    three times the average). Since ``pi >= 0``, multiplying the output scales both the slopes and the
    intercepts of every position.

    Args:
        channels: input channels ``C``.
        k: number of linear pieces ``K`` (2).
        reduction: reduction of the hyper function's first FC (4).
        lambda_a: range of the slope residuals (1.0).
        lambda_b: range of the intercept residuals (0.5).
        gamma_scale: ``gamma / (H W)`` (1/3).
        temperature: softmax temperature ``tau`` (1: the authors' code has none).
        act_layer: activation inside the hyper function (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> act = cvattn.create("dynamic-relu-c", channels=64)
        >>> act(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The spatial branch (1x1 conv to one map with bias, BN, ``min(HW/3 softmax, 1)`` written as
        ``hardtanh(HW softmax, 0, 3) / 3``, the product with the whole output) follows ``DYReLU`` with
        ``use_spatial=True`` in the authors' Dynamic Head code (microsoft/DynamicHead, ``dyhead/dyrelu.py``).
        That code uses a hard sigmoid in the hyper function and orders the residuals ``a^1, b^1, a^2, b^2``;
        here the hyper function is the paper's (``2 sigmoid - 1``, all ``a`` then all ``b``), as for
        DY-ReLU-B. Third-party versions divide the logits by a temperature of 10; it is an argument here.
        The conv's bias and BN's shift add a constant to the logits, which the softmax ignores: they never
        change ``pi`` and get no gradient, but are kept, as in the authors' code (same parameter count).

    Reference:
        Chen et al. Dynamic ReLU. ECCV 2020.
    """

    def __init__(
        self,
        channels: int,
        k: int = 2,
        reduction: int = 4,
        lambda_a: float = 1.0,
        lambda_b: float = 0.5,
        gamma_scale: float = 1 / 3,
        temperature: float = 1.0,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__(channels, k, reduction, lambda_a, lambda_b, act_layer, per_channel=True)
        if gamma_scale <= 0 or temperature <= 0:
            raise ValueError(
                f"DynamicReLUC: gamma_scale and temperature must be positive, got {gamma_scale} and {temperature}"
            )
        self.gamma_scale = gamma_scale
        self.temperature = temperature
        self.spatial = nn.Sequential(nn.Conv2d(channels, 1, 1), nn.BatchNorm2d(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)  # checks the input
        n, _, h, w = x.shape
        z = self.spatial(x).view(n, h * w)
        pi = torch.softmax(z / self.temperature, dim=1).view(n, 1, h, w)
        return out * (pi * (self.gamma_scale * h * w)).clamp(max=1.0)
