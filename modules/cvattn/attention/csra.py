"""Class-specific residual attention (CSRA): a multi-label classification head.

Paper: "Residual Attention: A Simple but Effective Method for Multi-Label Recognition", Ke Zhu, Jianxin Wu,
ICCV 2021, https://arxiv.org/abs/2108.02456. Official code: https://github.com/Kevinz-code/CSRA
(``pipeline/csra.py``: ``CSRA`` and its multi-head ensemble ``MHA``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input

#: The official temperatures of each number of heads; ``inf`` is the max-pooling head (official ``T = 99``).
CSRA_TEMPERATURES = {
    1: (1.0,),
    2: (1.0, math.inf),
    4: (1.0, 2.0, 4.0, math.inf),
    6: (1.0, 2.0, 3.0, 4.0, 5.0, math.inf),
    8: (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, math.inf),
}


@register("csra", kind="block", inputs=(64, 14, 14), channels=64, num_classes=20)
class CSRA(nn.Module):
    """CSRA: per-class average pooling plus a class-specific spatial attention pooling, summed over heads.

    Each head ``i`` holds one classifier ``m_j`` per class (a 1x1 convolution without bias) and scores every
    position with the normalised classifier, ``s_j(k) = m_j^T x_k / ||m_j||``. Its logit for class ``j`` is the
    average score plus ``lam`` times an attention-pooled score, ``mean_k s_j(k) + lam * sum_k s_j(k) *
    softmax_k(T_i s_j(k))``, where the attention is the softmax over positions at temperature ``T_i`` (the
    maximum score when ``T_i = inf``). The heads' logits are added.

    Args:
        channels: feature channels ``C`` (2048 for the paper's ResNet-101).
        num_classes: number of classes ``K``.
        num_heads: number of heads ``H``; picks the official temperatures (1, 2, 4, 6 or 8 heads:
            ``1``; ``1, inf``; ``1, 2, 4, inf``; ``1..5, inf``; ``1..7, inf``).
        lam: weight ``lambda`` of the attention logit (official default 0.1 for VOC, 0.4-0.5 for COCO).
        temperatures: one temperature per head, overriding ``num_heads`` (``math.inf`` for max pooling).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, K)``, the logits

    Examples:
        >>> import torch, cvattn
        >>> head = cvattn.create("csra", channels=64, num_classes=20, num_heads=4, lam=0.5)
        >>> head.temperatures
        (1.0, 2.0, 4.0, inf)
        >>> head(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 20])

    Deviations:
        The official code marks the max-pooling head by ``T = 99``; here it is ``math.inf``. The heads'
        scores come from one convolution with the normalised weights of all heads stacked, instead of one
        convolution per head divided by the weight norm afterwards (equal up to rounding). Parameters:
        ``H * K * C`` either way.

    Reference:
        Zhu and Wu. Residual Attention: A Simple but Effective Method for Multi-Label Recognition. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_classes: int,
        num_heads: int = 1,
        lam: float = 0.1,
        temperatures: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        if temperatures is None:
            if num_heads not in CSRA_TEMPERATURES:
                raise ValueError(f"num_heads: expected one of {sorted(CSRA_TEMPERATURES)}, got {num_heads}")
            temperatures = CSRA_TEMPERATURES[num_heads]
        if not temperatures or any(t <= 0 for t in temperatures):
            raise ValueError(f"temperatures: expected positive values, got {tuple(temperatures)}")
        self.channels, self.num_classes, self.lam = channels, num_classes, lam
        self.temperatures = tuple(float(t) for t in temperatures)
        self.heads = nn.ModuleList(nn.Conv2d(channels, num_classes, 1, bias=False) for _ in self.temperatures)
        # softmax heads first, then max-pooling heads: one slice of the stacked scores each
        self._order = [i for i, t in enumerate(self.temperatures) if math.isfinite(t)]
        self._order += [i for i, t in enumerate(self.temperatures) if not math.isfinite(t)]
        self._n_soft = sum(math.isfinite(t) for t in self.temperatures)
        soft = [self.temperatures[i] for i in self._order[: self._n_soft]]
        self.register_buffer("_soft_t", torch.tensor(soft).view(-1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, k = x.shape[0], self.num_classes
        if len(self.temperatures) == 1:  # one head: no stacking, no sum over heads
            m = self.heads[0].weight
            s = F.conv2d(x, m / torch.linalg.vector_norm(m, dim=1, keepdim=True)).flatten(2)  # (N, K, HW)
            if self._n_soft:
                att = (s * torch.softmax(s * self.temperatures[0], -1)).sum(-1)
            else:  # max, not amax: the gradient goes to one position, as with the official torch.max
                att = s.max(-1).values
            return torch.add(s.mean(-1), att, alpha=self.lam)
        m = torch.cat([self.heads[i].weight for i in self._order]).flatten(1)  # (H*K, C)
        m = m / torch.linalg.vector_norm(m, dim=1, keepdim=True)  # unit-norm class classifiers
        s = F.conv2d(x, m[:, :, None, None]).reshape(n, -1, k, x.shape[2] * x.shape[3])  # (N, H, K, HW)
        logits = s.mean(-1).sum(1)  # class-agnostic average pooling, once per head: (N, K)
        if self._n_soft:
            s_soft = s[:, : self._n_soft]
            att = (s_soft * torch.softmax(s_soft * self._soft_t.to(s.dtype), -1)).sum(-1).sum(1)
            logits = torch.add(logits, att, alpha=self.lam)
        if self._n_soft < len(self.temperatures):  # T = inf: the maximum score
            logits = torch.add(logits, s[:, self._n_soft :].max(-1).values.sum(1), alpha=self.lam)
        return logits
