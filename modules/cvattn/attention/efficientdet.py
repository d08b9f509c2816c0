"""Fast normalised feature fusion of BiFPN.

Paper: "EfficientDet: Scalable and Efficient Object Detection", Mingxing Tan, Ruoming Pang, Quoc V. Le,
CVPR 2020, https://arxiv.org/abs/1911.09070.
Official code: https://github.com/google/automl/tree/master/efficientdet (``efficientdet_arch.py``,
``fuse_features`` with ``weight_method='fastattn'``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, create_act


@register("efficientdet", kind="fusion", inputs=((64, 16, 16), (64, 16, 16)), channels=64)
class FastNormalizedFusion(nn.Module):
    """BiFPN node: fast normalised weighted fusion of same-size inputs, then a depthwise-separable conv.

    ``O = sum_i w_i I_i / (eps + sum_j w_j)`` with learned scalars ``w_i >= 0`` (kept non-negative by a
    ReLU, initialised to 1, ``eps = 1e-4``): like a softmax over the inputs' importance, but cheaper. The
    fused map then goes through swish, a depthwise 3x3 convolution, a pointwise convolution and BN, as in
    the official BiFPN node. Inputs must already be resized to the same shape.

    Args:
        channels: channels ``C`` of every input.
        num_inputs: number of inputs, 2 or 3 (the intermediate BiFPN nodes take 3).
        eps: ``epsilon`` of the normalisation (1e-4).
        act_layer: activation before the convolution (swish / SiLU).
        norm_layer: normalisation after the pointwise convolution (BatchNorm2d).

    Shape:
        - Inputs: ``x``, ``y`` (and ``z`` when ``num_inputs=3``), each ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> fuse = cvattn.create("efficientdet", channels=64)
        >>> fuse(torch.randn(2, 64, 16, 16), torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The official node takes features of different levels and resizes them itself; this block takes them
        already resized, so it can be used between any two or three maps.

    Reference:
        Tan, Pang, Le. EfficientDet: Scalable and Efficient Object Detection. CVPR 2020.
    """

    def __init__(
        self,
        channels: int,
        num_inputs: int = 2,
        eps: float = 1e-4,
        act_layer: LayerType = nn.SiLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if num_inputs not in (2, 3):
            raise ValueError(f"num_inputs must be 2 or 3, got {num_inputs}")
        self.channels, self.num_inputs, self.eps = channels, num_inputs, eps
        self.weight = nn.Parameter(torch.ones(num_inputs))
        self.act = create_act(act_layer)
        self.depthwise = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.pointwise = ConvNormAct(channels, channels, 1, bias=True, norm_layer=norm_layer, act_layer=None)

    def forward(self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor | None = None) -> torch.Tensor:
        given = 2 if z is None else 3
        if given != self.num_inputs and not isinstance(z, fx.Proxy):
            raise ValueError(
                f"expected {self.num_inputs} inputs of shape (N, {self.channels}, H, W), got {given}"
            )
        inputs = (x, y) if self.num_inputs == 2 else (x, y, z)
        for i, t in enumerate(inputs):
            check_input(t, self.channels, name=f"input {i}")
        w = torch.relu(self.weight)
        w = w / (w.sum() + self.eps)  # fast normalised weights
        fused = sum(w[i] * t for i, t in enumerate(inputs))
        return self.pointwise(self.depthwise(self.act(fused)))
