"""Non-local block.

Paper: "Non-local Neural Networks", Xiaolong Wang, Ross Girshick, Abhinav Gupta, Kaiming He, CVPR 2018,
https://arxiv.org/abs/1711.07971. Official code (Caffe2, video): https://github.com/facebookresearch/video-nonlocal-net
(``lib/models/nonlocal_helper.py``, defaults in ``lib/core/config.py``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, match_memory_format

MODES = ("embedded_gaussian", "gaussian", "dot_product", "concatenation")


@register("non-local-concatenation", kind="attention", inputs=(64, 14, 14), channels=64, mode="concatenation")
@register("non-local-dot-product", kind="attention", inputs=(64, 14, 14), channels=64, mode="dot_product")
@register("non-local-gaussian", kind="attention", inputs=(64, 14, 14), channels=64, mode="gaussian")
@register("non-local", kind="attention", inputs=(64, 14, 14), channels=64)
class NonLocal2d(nn.Module):
    """Non-local block: every position aggregates all positions, weighted by a pairwise affinity.

    ``y_i = 1/C(x) sum_j f(x_i, x_j) g(x_j)`` and ``z = W_z y + x`` (a residual block). ``g``, ``theta`` and
    ``phi`` are 1x1 convolutions to ``C/2`` channels; ``W_z`` is a 1x1 convolution back to ``C`` followed by
    BatchNorm. The pairwise function ``f`` with its normalisation is one of:

    - ``embedded_gaussian`` (id ``non-local``): ``softmax_j(s * theta_i . phi_j)`` with ``s = (C/2)^-0.5``
      (the official ``USE_SCALE``); plain softmax attention, computed by
      ``scaled_dot_product_attention``;
    - ``gaussian``: ``softmax_j(x_i . x_j)`` on the raw features (no scaling);
    - ``dot_product``: ``theta_i . phi_j / N`` with ``N`` the number of key positions;
    - ``concatenation``: ``ReLU(w^T [theta_i, phi_j]) / N``.

    Keys and values come from a 2x2 max-pooled map when ``sub_sample`` (official ``USE_MAXPOOL``).
    Memory grows with ``(H*W) * (H*W/4)``: the affinity matrix is quadratic in the number of positions
    (the fused attention kernel avoids storing it for the two softmax variants).

    Args:
        channels: input channels ``C``.
        mode: pairwise function, one of ``embedded_gaussian`` (default), ``gaussian``, ``dot_product``,
            ``concatenation``.
        inter_channels: embedding width (default ``C // 2``).
        sub_sample: max-pool keys and values 2x2 (default true, as the official code).
        use_scale: scale the embedded-Gaussian logits by ``inter_channels^-0.5`` (default true, as the
            official code).
        norm_layer: normalisation after ``W_z`` (BatchNorm2d).
        zero_init: start the final BatchNorm's scale at zero, as the official code (``BN_INIT_GAMMA = 0``),
            so the block starts as an identity (default false, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> nl = cvattn.create("non-local", channels=64)
        >>> nl(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``zero_init`` defaults to false: with a zero BatchNorm scale no gradient reaches ``theta``, ``phi`` and
        ``g`` at the first step, which the package's gradient check rejects; pass ``zero_init=True`` for the
        official initialisation. The official convolution init (normal, std 0.01) is not applied.

    Reference:
        Wang, Girshick, Gupta, He. Non-local Neural Networks. CVPR 2018.
    """

    def __init__(
        self,
        channels: int,
        mode: str = "embedded_gaussian",
        inter_channels: int | None = None,
        sub_sample: bool = True,
        use_scale: bool = True,
        norm_layer: LayerType = nn.BatchNorm2d,
        zero_init: bool = False,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.channels, self.mode = channels, mode
        self.inter_channels = inter_channels or max(1, channels // 2)
        ci = self.inter_channels
        self.scale = ci**-0.5 if (use_scale and mode == "embedded_gaussian") else 1.0
        self.g = nn.Conv2d(channels, ci, 1)
        if mode != "gaussian":
            self.theta = nn.Conv2d(channels, ci, 1)
            self.phi = nn.Conv2d(channels, ci, 1)
        if mode == "concatenation":
            self.concat_project = nn.Conv2d(2 * ci, 1, 1, bias=False)
        self.pool = nn.MaxPool2d(2) if sub_sample else nn.Identity()
        self.w_z = nn.Conv2d(ci, channels, 1)
        self.bn = norm_layer(channels)
        if zero_init:
            nn.init.zeros_(self.bn.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, w = x.size(0), x.shape[2], x.shape[3]
        kv = self.pool(x)
        g = self.g(kv).flatten(2).transpose(1, 2)  # values: (N, M, Ci), M key positions
        if self.mode == "gaussian":
            q = x.flatten(2).transpose(1, 2)  # raw features: (N, HW, C)
            k = kv.flatten(2).transpose(1, 2)  # (N, M, C)
        else:
            q = self.theta(x).flatten(2).transpose(1, 2)  # (N, HW, Ci)
            k = self.phi(kv).flatten(2).transpose(1, 2)  # (N, M, Ci)
        if self.mode in ("embedded_gaussian", "gaussian"):
            y = F.scaled_dot_product_attention(q, k, g, scale=self.scale)  # softmax_j(f) g: (N, HW, Ci)
        elif self.mode == "dot_product":
            f = q @ k.transpose(1, 2) / k.size(1)  # (N, HW, M), normalised by the number of keys
            y = f @ g
        else:
            w_q, w_k = self.concat_project.weight.flatten().chunk(
                2
            )  # w^T [theta_i, phi_j] = w_q.theta_i + w_k.phi_j
            f = F.relu((q @ w_q)[:, :, None] + (k @ w_k)[:, None, :]) / k.size(1)  # (N, HW, M)
            y = f @ g
        y = y.transpose(1, 2).reshape(n, self.inter_channels, h, w)  # (N, Ci, H, W)
        return self.bn(self.w_z(match_memory_format(y, x))) + x
