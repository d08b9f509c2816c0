"""Expectation-maximisation attention unit (EMAU).

Paper: "Expectation-Maximization Attention Networks for Semantic Segmentation", Xia Li, Zhisheng Zhong,
Jianlong Wu, Yibo Yang, Zhouchen Lin, Hong Liu, ICCV 2019, https://arxiv.org/abs/1907.13426.
Official code: https://github.com/XiaLiPKU/EMANet (``network.py`` class ``EMAU``; the moving average of the
bases is in ``train.py``, ``Session.train_batch``; ``EM_MOM`` and ``STAGE_NUM`` in ``settings.py``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input


def _l2_normalise(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``t / (1e-6 + ||t||_2)`` along ``dim``, the official ``_l2norm``."""
    return t / (1e-6 + t.norm(dim=dim, keepdim=True))


@fx.wrap
def _moving_average_(mu0: torch.Tensor, mu: torch.Tensor, momentum: float) -> torch.Tensor:
    """In place, without gradient: ``mu0 <- momentum * mu0 + (1 - momentum) * mean_batch(mu)``."""
    with torch.no_grad():
        mu0.mul_(momentum).add_(mu.mean(0, keepdim=True).to(mu0.dtype), alpha=1.0 - momentum)
    return mu0


@fx.wrap
def e_step(x: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """E step, responsibilities ``z = softmax_k(x^T mu)``: ``(N, C, HW), (N, C, K) -> (N, HW, K)``.

    A leaf of ``torch.fx`` traces, so that the diagram shows one box per step.
    """
    return torch.softmax(x.transpose(1, 2) @ mu, dim=2)


@fx.wrap
def m_step(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """M step, bases as responsibility-weighted means, l2-normalised: ``(N, C, HW), (N, HW, K) -> (N, C, K)``."""
    z_ = z / (1e-6 + z.sum(dim=1, keepdim=True))  # normalised over pixels
    return _l2_normalise(x @ z_, dim=1)


@register("emanet", kind="attention", inputs=(64, 14, 14), channels=64)
class EMAU(nn.Module):
    """EMAU: attention to a few bases found by expectation-maximisation, then a low-rank reconstruction.

    After a 1x1 convolution (with bias) the ``H*W`` pixels ``x_n`` are softly clustered around ``K`` bases
    ``mu_k`` by ``T`` EM iterations started from the learned initial bases ``mu^(0)``:

    - E step: responsibilities ``z_nk = softmax_k(x_n . mu_k)``;
    - M step: ``mu_k = sum_n z_nk x_n / (1e-6 + sum_n z_nk)``, then l2-normalised over channels.

    The map is reconstructed as ``x~_n = sum_k z_nk mu_k`` with the last iteration's ``z`` and ``mu``, passed
    through ReLU, a 1x1 convolution without bias and BatchNorm, added to the input, and ReLU is applied:
    ``y = ReLU(x + BN(W_out ReLU(x~)))``. In training mode every forward pass updates the buffer ``mu``
    (``mu^(0)``) by a moving average of the batch-mean final bases, ``mu^(0) <- m mu^(0) + (1 - m) mean(mu^(T))``
    (no renormalisation, as the official ``train.py``); evaluation leaves it untouched. Cost is ``O(H*W*K*C)``
    per iteration: memory grows linearly with ``H*W`` (the ``H*W x K`` responsibilities).

    Args:
        channels: input and output channels ``C``.
        num_bases: number of bases ``K`` (64, the official ``EMAU(512, 64)``).
        num_stages: number of EM iterations ``T`` (3, the official ``STAGE_NUM``).
        momentum: moving-average momentum ``m`` of the initial bases (0.9, the official ``EM_MOM``).
        norm_layer: normalisation after the output convolution (BatchNorm2d).
        detach_em: cut the gradient through the EM iterations and the reconstruction, as the official code
            (``torch.no_grad``); then the input convolution receives no gradient (default false, see
            Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> emau = cvattn.create("emanet", channels=64, num_bases=32)
        >>> emau.mu.shape
        torch.Size([1, 64, 32])
        >>> emau(torch.randn(2, 64, 13, 17)).shape
        torch.Size([2, 64, 13, 17])

    Deviations:
        ``detach_em`` defaults to false, so gradients flow through the EM iterations and reach the input
        convolution; the official code runs the iterations under ``torch.no_grad`` (``detach_em=True``), which
        leaves that convolution untrained (the author notes in issue #14 that enabling the gradient costs a
        little accuracy). The moving average of ``mu^(0)`` runs inside ``forward`` in training mode instead of
        in the training loop, over the local batch (the official code averages over all GPUs' samples).
        ``forward`` returns only the output, not ``(output, mu)``. The official network's BatchNorm momentum
        (``BN_MOM = 3e-4``, a whole-network fine-tuning setting) is not applied.

    Reference:
        Li, Zhong, Wu, Yang, Lin, Liu. Expectation-Maximization Attention Networks for Semantic Segmentation.
        ICCV 2019.
    """

    mu: torch.Tensor

    def __init__(
        self,
        channels: int,
        num_bases: int = 64,
        num_stages: int = 3,
        momentum: float = 0.9,
        norm_layer: LayerType = nn.BatchNorm2d,
        detach_em: bool = False,
    ) -> None:
        super().__init__()
        if num_stages < 1:
            raise ValueError(f"num_stages must be at least 1, got {num_stages}")
        self.channels, self.num_bases, self.num_stages = channels, num_bases, num_stages
        self.momentum, self.detach_em = momentum, detach_em
        mu = torch.randn(1, channels, num_bases) * math.sqrt(2.0 / num_bases)  # N(0, sqrt(2/K))
        self.register_buffer("mu", _l2_normalise(mu, dim=1))  # initial bases mu^(0): (1, C, K)
        self.conv_in = nn.Conv2d(channels, channels, 1)
        self.conv_out = ConvNormAct(channels, channels, 1, norm_layer=norm_layer, act_layer=None)
        for m in (self.conv_in, self.conv_out.conv):  # official init: normal(0, sqrt(2 / (k*k*C_out)))
            nn.init.normal_(
                m.weight, 0.0, math.sqrt(2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels))
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        identity = x
        x = self.conv_in(x)
        n, c, h, w = x.size(0), x.shape[1], x.shape[2], x.shape[3]
        x = x.flatten(2)  # (N, C, HW)
        x_em = x.detach() if self.detach_em else x
        mu = self.mu.clone() if self.training else self.mu  # (1, C, K), copied: updated in place below
        for _ in range(self.num_stages):
            z = e_step(x_em, mu)  # (N, HW, K)
            mu = m_step(x_em, z)  # (N, C, K); the first E step broadcasts mu^(0)
        if self.training:
            _moving_average_(self.mu, mu.detach(), self.momentum)
        x_tilde = (mu @ z.transpose(1, 2)).reshape(n, c, h, w)  # x~ = mu z^T: (N, C, H, W)
        return F.relu(self.conv_out(F.relu(x_tilde)) + identity)
