"""Attentional Feature Fusion (MS-CAM, AFF, iAFF).

Paper: "Attentional Feature Fusion", Yimian Dai, Fabian Gieseke, Stefan Oehmcke, Yiquan Wu, Kobus Barnard,
WACV 2021, https://arxiv.org/abs/2009.14082. Official code: https://github.com/YimianDai/open-aff
(MXNet ``model/fusion.py``; PyTorch port ``aff_pytorch/aff_net/fusion.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, create_act, get_layer


def _context(channels: int, hidden: int, norm_layer, pooled_norm, act_layer, pooled: bool) -> nn.Sequential:
    """Point-wise bottleneck ``BN(PWConv2(act(BN(PWConv1(.)))))`` (1x1 convs with bias)."""
    norm = pooled_norm if pooled else norm_layer
    return nn.Sequential(
        nn.Conv2d(channels, hidden, 1, bias=True),
        norm(hidden),
        create_act(act_layer, inplace=True),
        nn.Conv2d(hidden, channels, 1, bias=True),
        norm(channels),
    )


@register("aff-mscam", kind="attention", inputs=(64, 16, 16), channels=64)
class MSCAM(nn.Module):
    """MS-CAM: multi-scale channel attention from a local (per-pixel) and a global context.

    ``L(X) = BN(PWConv2(ReLU(BN(PWConv1(X)))))`` keeps the spatial size (point-wise convs, ``C -> C/r -> C``)
    and ``g(X)`` is the same bottleneck on ``GAP(X)``; ``M(X) = sigmoid(L(X) + g(X))`` (broadcast) and the
    output is ``X * M(X)``.

    Args:
        channels: input channels ``C``.
        reduction: reduction ratio ``r``; hidden width ``C // r`` (official: 4).
        act_layer: activation in the bottlenecks (ReLU).
        norm_layer: normalisation (BatchNorm2d; the global branch uses ``BatchNormAnyBatch2d`` unless
            another layer is given).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> m = cvattn.create("aff-mscam", channels=64)
        >>> m(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        With a training batch of one, the BatchNorm of the global branch normalises with its running
        statistics (batch statistics of one value are undefined; the official code raises).

    Reference:
        Dai, Gieseke, Oehmcke, Wu, Barnard. Attentional Feature Fusion. WACV 2021.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 4,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        hidden = max(1, channels // reduction)
        norm = get_layer(norm_layer)
        pooled_norm = BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm
        self.local_att = _context(channels, hidden, norm, pooled_norm, act_layer, pooled=False)
        self.global_att = _context(channels, hidden, norm, pooled_norm, act_layer, pooled=True)
        self.gate = create_act(gate_layer)

    def weights(self, x: torch.Tensor) -> torch.Tensor:
        """The attention ``M(X) = sigmoid(L(X) + g(X))``: (N, C, H, W)."""
        return self.gate(self.local_att(x) + self.global_att(x.mean((2, 3), keepdim=True)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        return x * self.weights(x)


@register("aff", kind="fusion", inputs=((64, 16, 16), (64, 16, 16)), channels=64)
class AFF(nn.Module):
    """AFF: fuses two feature maps with a soft selection computed by MS-CAM from their sum.

    ``M = MS-CAM weights of (X + Y)`` and ``Z = 2 * (M * X + (1 - M) * Y)``; the factor 2 is the official
    code's (MXNet ``ASKCFuse`` and the PyTorch port), so that ``Z = X + Y`` when ``M = 0.5``.

    Args:
        channels: channels ``C`` of both inputs.
        reduction: reduction ratio of MS-CAM (official: 4).
        act_layer: activation (ReLU).
        norm_layer: normalisation (BatchNorm2d).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``x``: ``(N, C, H, W)`` (e.g. the residual branch), ``y``: ``(N, C, H, W)`` (e.g. the
          identity)
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> aff = cvattn.create("aff", channels=64)
        >>> x, y = torch.randn(2, 64, 16, 16), torch.randn(2, 64, 16, 16)
        >>> aff(x, y).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The paper's Eq. (5) has no factor 2; the official code (followed here) has it.

    Reference:
        Dai, Gieseke, Oehmcke, Wu, Barnard. Attentional Feature Fusion. WACV 2021.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 4,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.mscam = MSCAM(channels, reduction, act_layer, norm_layer, gate_layer)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels, name="x")
        check_input(y, self.channels, name="y")
        m = self.mscam.weights(x + y)  # M(X ⊎ Y), initial integration by addition
        return 2 * (x * m + y * (1 - m))


@register("aff-iaff", kind="fusion", inputs=((64, 16, 16), (64, 16, 16)), channels=64)
class IAFF(nn.Module):
    """iAFF: iterative AFF, whose initial integration is itself an attentional fusion.

    ``M1 = MS-CAM_1(X + Y)``, ``X ⊎ Y = M1 * X + (1 - M1) * Y``, then ``M2 = MS-CAM_2(X ⊎ Y)`` and
    ``Z = M2 * X + (1 - M2) * Y`` (no factor 2, as the official code). The two MS-CAMs have their own
    weights.

    Args:
        channels: channels ``C`` of both inputs.
        reduction: reduction ratio of both MS-CAMs (official: 4).
        act_layer: activation (ReLU).
        norm_layer: normalisation (BatchNorm2d).
        gate_layer: gate (sigmoid).

    Shape:
        - Input: ``x``: ``(N, C, H, W)``, ``y``: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> iaff = cvattn.create("aff-iaff", channels=64)
        >>> x, y = torch.randn(2, 64, 16, 16), torch.randn(2, 64, 16, 16)
        >>> iaff(x, y).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        The second stage uses its own global branch, as the paper and the authors' MXNet code
        (``global_att2``); the PyTorch port reuses the first stage's ``global_att`` there and leaves
        ``global_att2`` unused.

    Reference:
        Dai, Gieseke, Oehmcke, Wu, Barnard. Attentional Feature Fusion. WACV 2021.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 4,
        act_layer: LayerType = nn.ReLU,
        norm_layer: LayerType = nn.BatchNorm2d,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        self.channels = channels
        self.mscam1 = MSCAM(channels, reduction, act_layer, norm_layer, gate_layer)
        self.mscam2 = MSCAM(channels, reduction, act_layer, norm_layer, gate_layer)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels, name="x")
        check_input(y, self.channels, name="y")
        m1 = self.mscam1.weights(x + y)
        xi = x * m1 + y * (1 - m1)  # X ⊎ Y, attentional initial integration
        m2 = self.mscam2.weights(xi)
        return x * m2 + y * (1 - m2)
