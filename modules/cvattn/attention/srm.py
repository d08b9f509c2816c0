"""Style-based Recalibration Module (SRM).

Paper: "SRM: A Style-based Recalibration Module for Convolutional Neural Networks", HyunJae Lee, Hyo-Eun Kim,
Hyeonseob Nam, ICCV 2019, https://arxiv.org/abs/1903.10829. Official code:
https://github.com/hyunjaelee410/style-based-recalibration-module (``models/recalibration_modules.py``,
``SRMLayer``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import BatchNormAnyBatch2d, LayerType, check_input, create_act, get_layer


@register("srm", kind="attention", inputs=(64, 14, 14), channels=64)
class SRM(nn.Module):
    """SRM: gates each channel by a learned combination of its style statistics, its mean and std.

    Style pooling: ``t_c = (mu_c, sigma_c)`` with ``mu_c`` the mean of channel ``c`` over ``H*W`` and
    ``sigma_c = sqrt(var_c + eps)`` (unbiased variance). Style integration, channel by channel:
    ``z_c = w_c . t_c`` (a channel-wise fully connected layer, two weights per channel, no mixing across
    channels), then batch normalisation and ``g = sigmoid(BN(z))``; output ``x * g``. Memory grows with
    ``C*H*W`` (one gated copy of the input).

    Args:
        channels: channels ``C``.
        eps: added to the variance before the square root (official: 1e-5).
        norm_layer: normalisation of ``z`` (BatchNorm2d, as :class:`~cvattn.layers.BatchNormAnyBatch2d`);
            ``None`` for none.
        gate_layer: gating function (sigmoid).
        zero_init: start the style-integration weights at 0 as the official code (default false: 0.1, see
            Deviations).

    Shape:
        - Input: ``(N, C, H, W)`` with ``H*W >= 2``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> srm = cvattn.create("srm", channels=64)
        >>> srm(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The style-integration weights start at 0.1 unless ``zero_init``: at 0, ``z`` is 0 for every sample,
        so the batch-normalised ``z`` is 0 and no gradient reaches the BN scale at the first step. A
        training batch of one sample is normalised with the running statistics (``nn.BatchNorm2d`` raises
        there, having one value per channel). Raises ``ValueError`` on a ``1 x 1`` map, whose unbiased
        variance is undefined (NaN in the official code).

    Reference:
        Lee, Kim, Nam. SRM: A Style-based Recalibration Module for Convolutional Neural Networks. ICCV 2019.
    """

    def __init__(
        self,
        channels: int,
        eps: float = 1e-5,
        norm_layer: LayerType = nn.BatchNorm2d,
        gate_layer: LayerType = nn.Sigmoid,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be positive, got {channels}")
        norm = get_layer(norm_layer)
        norm = BatchNormAnyBatch2d if norm is nn.BatchNorm2d else norm
        self.channels, self.eps = channels, eps
        self.cfc = nn.Parameter(
            torch.full((channels, 2), 0.0 if zero_init else 0.1)
        )  # w_c for (mu_c, sigma_c)
        self.bn = norm(channels) if norm is not None else nn.Identity()
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if not isinstance(x, fx.Proxy) and x.shape[2] * x.shape[3] < 2:
            raise ValueError(f"input: expected at least two positions, got a {x.shape[2]}x{x.shape[3]} map")
        flat = x.flatten(2)  # (N, C, HW)
        mu = flat.mean(dim=2)  # (N, C)
        sigma = (flat.var(dim=2) + self.eps).sqrt()  # (N, C)
        z = mu * self.cfc[:, 0] + sigma * self.cfc[:, 1]  # style integration: (N, C)
        g = self.gate(self.bn(z[:, :, None, None]))  # (N, C, 1, 1)
        return x * g
