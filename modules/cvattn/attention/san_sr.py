"""Second-order channel attention (SOCA) of SAN: a channel gate from the square root of the channel covariance.

Paper: "Second-Order Attention Network for Single Image Super-Resolution", Tao Dai, Jianrui Cai, Yongbing Zhang,
Shu-Tao Xia, Lei Zhang, CVPR 2019,
https://openaccess.thecvf.com/content_CVPR_2019/html/Dai_Second-Order_Attention_Network_for_Single_Image_Super-Resolution_CVPR_2019_paper.html.
Official code: https://github.com/daitao/SAN (``TrainCode/model/san.py``, ``SOCA``; covariance pooling and
matrix square root in ``TrainCode/model/MPNCOV/python/MPNCOV.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format


def _covariance(x: torch.Tensor) -> torch.Tensor:
    """Channel covariance ``(1/M) (X - mean)(X - mean)^T`` over the ``M`` positions: ``(N, C, C)``."""
    x = x.flatten(2)  # (N, C, M)
    x = x - x.mean(2, keepdim=True)
    return x @ x.transpose(1, 2) / x.shape[2]


def _sqrtm_newton_schulz(sigma: torch.Tensor, iterations: int) -> torch.Tensor:
    """Approximate ``sigma^(1/2)`` by coupled Newton-Schulz iterations on the trace-normalised matrix."""
    eye3 = 3.0 * torch.eye(sigma.shape[-1], dtype=sigma.dtype, device=sigma.device)
    trace = sigma.diagonal(dim1=1, dim2=2).sum(-1)[:, None, None]  # (N, 1, 1)
    a = sigma / trace  # pre-normalisation
    zy = 0.5 * (eye3 - a)
    y, z = a @ zy, zy
    for _ in range(iterations - 2):
        zy = 0.5 * (eye3 - z @ y)
        y, z = y @ zy, zy @ z
    y = 0.5 * y @ (eye3 - z @ y)  # last step: Y only
    return y * trace.sqrt()  # post-compensation


@register("san-sr-soca", kind="attention", inputs=(64, 14, 14), channels=64)
class SOCA(nn.Module):
    """SAN second-order channel attention: channel statistics from the normalised covariance matrix.

    The features ``X`` (``C x M``, ``M = H*W``; the central ``max_size x max_size`` crop of a larger map)
    give the sample covariance ``Sigma = X I_hat X^T`` with ``I_hat = (1/M)(I - (1/M) 1 1^T)``. Its square
    root ``Y = Sigma^(1/2)`` (covariance normalisation) is approximated by ``N`` coupled Newton-Schulz
    iterations, ``Y_k = 0.5 Y_{k-1}(3I - Z_{k-1}Y_{k-1})``, ``Z_k = 0.5 (3I - Z_{k-1}Y_{k-1}) Z_{k-1}``,
    started from ``Y_0 = Sigma / tr(Sigma)``, ``Z_0 = I`` and rescaled by ``sqrt(tr(Sigma))``. Averaging ``Y``
    over its rows gives one statistic ``z_c`` per channel; the gate ``w = sigmoid(W_U ReLU(W_D z))`` (1x1
    convolutions with bias, reduction ``r``) rescales ``x``. Memory grows with ``H*W*C`` (the centred
    features), plus ``C^2`` per sample for the covariance.

    Args:
        channels: channels ``C`` (SAN: 64).
        reduction: reduction ratio ``r`` of the gate's bottleneck ``C // r`` (official class default: 8; the
            SAN network passes its ``--reduction`` option, 16 by default).
        iterations: Newton-Schulz iterations ``N`` (official: 5); at least 2.
        max_size: side of the central crop the covariance is computed on for larger maps (official: 1000).
        act_layer: activation in the gate (ReLU).
        gate_layer: gating function (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> soca = cvattn.create("san-sr-soca", channels=64)
        >>> soca(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The covariance is computed by centring the features instead of building the ``M x M`` matrix
        ``I_hat``, and the Newton-Schulz iterations run in the input's dtype (the official ``Sqrtm`` keeps its
        intermediate iterates in float32) with autograd instead of the official hand-written backward. The
        official crop of maps larger than 1000 is reproduced by arithmetic; a side of exactly ``max_size`` is
        kept whole (the official branches mis-handle it).

    Reference:
        Dai, Cai, Zhang, Xia, Zhang. Second-Order Attention Network for Single Image Super-Resolution. CVPR 2019.
    """

    def __init__(
        self,
        channels: int,
        reduction: int = 8,
        iterations: int = 5,
        max_size: int = 1000,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        if channels // reduction < 1 or iterations < 2 or max_size < 1:
            raise ValueError(
                f"need channels // reduction >= 1 (got {channels} // {reduction}), iterations >= 2 (got "
                f"{iterations}) and max_size >= 1 (got {max_size})"
            )
        self.channels, self.iterations, self.max_size = channels, iterations, max_size
        self.conv_down = nn.Conv2d(channels, channels // reduction, 1)
        self.act = create_act(act_layer, inplace=True)
        self.conv_up = nn.Conv2d(channels // reduction, channels, 1)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        h, w, s = x.shape[2], x.shape[3], self.max_size
        # central crop of sides larger than max_size, by arithmetic (max(d, 0) = (d + |d|) / 2)
        dh, dw = h - s, w - s
        top, left = (dh + abs(dh)) // 4, (dw + abs(dw)) // 4
        x_sub = x[:, :, top : h - (dh + abs(dh)) // 2 + top, left : w - (dw + abs(dw)) // 2 + left]
        sigma = _covariance(x_sub)  # (N, C, C)
        y = _sqrtm_newton_schulz(sigma, self.iterations)  # Sigma^(1/2): (N, C, C)
        z = y.mean(1)[:, :, None, None]  # channel statistics: (N, C, 1, 1)
        wgt = self.gate(self.conv_up(self.act(self.conv_down(z))))  # (N, C, 1, 1)
        return match_memory_format(x * wgt, x)
