"""Context Gating.

Paper: "Learnable pooling with Context Gating for video classification", Antoine Miech, Ivan Laptev, Josef Sivic,
arXiv 2017 (CVPR 2017 YouTube-8M workshop), https://arxiv.org/abs/1706.06905.
Official code (TensorFlow): https://github.com/antoine77340/LOUPE (``loupe.py``, ``context_gating``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input


@register("context-gating", kind="attention", inputs=(64, 14, 14), channels=64)
class ContextGating(nn.Module):
    """Context gating: ``Y = sigmoid(W X + b) * X``, a self-gate with a full ``C x C`` linear map.

    The paper gates a feature vector; on a feature map the same gate is applied at every position (a 1x1
    convolution), so each channel is re-weighted according to the other channels at that position. The
    official code replaces the bias by batch normalisation (``add_batch_norm=True``), the default here.

    Args:
        channels: input channels ``C``.
        norm_layer: normalisation after the linear map (BatchNorm2d, as the official default); ``None`` uses
            a bias instead.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> cg = cvattn.create("context-gating", channels=64)
        >>> cg(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Applied per position on ``(N, C, H, W)`` maps; the paper and official code gate ``(N, C)`` vectors
        (pass an ``(N, C, 1, 1)`` tensor for that).

    Reference:
        Miech, Laptev, Sivic. Learnable pooling with Context Gating for video classification. arXiv 2017.
    """

    def __init__(self, channels: int, norm_layer: LayerType = nn.BatchNorm2d) -> None:
        super().__init__()
        self.channels = channels
        self.fc = nn.Conv2d(channels, channels, 1, bias=norm_layer is None)
        self.norm = norm_layer(channels) if norm_layer is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        return x * torch.sigmoid(self.norm(self.fc(x)))
