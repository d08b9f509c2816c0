"""Hard-swish and hard-sigmoid (MobileNetV3).

Paper: "Searching for MobileNetV3", Andrew Howard, Mark Sandler, Grace Chu, Liang-Chieh Chen, Bo Chen,
Mingxing Tan, Weijun Wang, Yukun Zhu, Ruoming Pang, Vijay Vasudevan, Quoc V. Le, Hartwig Adam, ICCV 2019,
https://arxiv.org/abs/1905.02244. Official code (TensorFlow): https://github.com/tensorflow/models
(``research/slim/nets/mobilenet/mobilenet_v3.py``, ``hard_swish`` and the squeeze-excite ``gating_fn``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register


@register("mobilenetv3-hard-swish", kind="activation", inputs=(64, 14, 14), checks_input=False)
class HardSwish(nn.Module):
    """Hard-swish: ``h-swish(x) = x * ReLU6(x + 3) / 6``, a piecewise-polynomial stand-in for swish.

    Swish ``x * sigmoid(x)`` improves accuracy but the sigmoid is costly on mobile hardware and in
    quantised arithmetic; MobileNetV3 replaces the sigmoid by the hard-sigmoid ``ReLU6(x + 3) / 6``
    (zero below ``-3``, identity above ``3``, quadratic in between). MobileNetV3 uses it in the deeper
    half of the network only, where the feature maps are small.

    Args:
        inplace: overwrite the input (saves memory; the input must not be needed afterwards).

    Shape:
        - Input: any shape
        - Output: same shape as the input

    Examples:
        >>> import torch, cvattn
        >>> act = cvattn.create("mobilenetv3-hard-swish")
        >>> act(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Howard et al. Searching for MobileNetV3. ICCV 2019.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardswish(x, inplace=self.inplace)  # x * relu6(x + 3) / 6 in one kernel

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


@register("mobilenetv3-hard-sigmoid", kind="activation", inputs=(64, 14, 14), checks_input=False)
class HardSigmoid(nn.Module):
    """Hard-sigmoid: ``h-sigmoid(x) = ReLU6(x + 3) / 6``, the gate of MobileNetV3's squeeze-excite.

    A piecewise-linear approximation of the sigmoid: ``0`` below ``-3``, ``1`` above ``3``, linear with
    slope ``1/6`` in between. MobileNetV3 uses it as the gating function of its squeeze-and-excite
    modules and inside hard-swish.

    Args:
        inplace: overwrite the input (saves memory; the input must not be needed afterwards).

    Shape:
        - Input: any shape
        - Output: same shape as the input

    Examples:
        >>> import torch, cvattn
        >>> gate = cvattn.create("mobilenetv3-hard-sigmoid")
        >>> gate(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official squeeze-excite gate multiplies by ``0.16667``; this uses the exact ``1/6`` of the
        paper's formula.

    Reference:
        Howard et al. Searching for MobileNetV3. ICCV 2019.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.hardsigmoid(x, inplace=self.inplace)  # relu6(x + 3) / 6 in one kernel

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""
