"""Weighted Channel Dropout.

Paper: "Weighted Channel Dropout for Regularization of Deep Convolutional Neural Network", Saihui Hou, Zilei Wang,
AAAI 2019, https://ojs.aaai.org/index.php/AAAI/article/view/4858 (DOI 10.1609/aaai.v33i01.33018425).
Official code: none released.
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


@register("wcd", kind="attention", inputs=(64, 14, 14), channels=64)
class WeightedChannelDropout(nn.Module):
    """Weighted Channel Dropout: in training, drop whole channels at random, weak channels first.

    Training only (identity in eval mode), parameter-free, per sample:

    1. Rating channels: ``score_i = mean_{H,W} x_i`` (global average pooling; WCD follows a ReLU, so the
       scores are non-negative; a negative mean counts as zero).
    2. Weighted random selection (WRS): ``key_i = r_i^(1 / score_i)`` with ``r_i ~ U(0, 1)``; the ``M`` channels
       with the largest keys get ``mask_i = 1`` (``M = max(1, int(wrs_ratio * C))``). This draws ``M``
       channels without replacement with probabilities proportional to the scores, so strongly activated
       channels are likely to survive.
    3. Random number generator (RNG): each selected channel is kept with probability ``q``
       (``mask_i *= Bernoulli(q)``), so that the same few strong channels are not always selected.
    4. Rescaling: ``x~_i = alpha * mask_i * x_i`` with ``alpha = sum_j score_j / sum_j mask_j score_j``, which
       keeps the total pooled activation ``sum_i mean(x~_i)`` of the sample unchanged.

    ``wrs_ratio=1`` gives channel-wise dropout with keep probability ``q``; ``q=1`` keeps the ``M`` channels
    chosen by WRS. Randomness comes from PyTorch's global generator (seed it with ``torch.manual_seed``).

    Args:
        channels: input channels ``C``.
        wrs_ratio: fraction of channels selected by weighted random selection (0.9, see Deviations).
        q: probability that the random number generator keeps a selected channel (0.5, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> wcd = cvattn.create("wcd", channels=64)
        >>> x = torch.randn(2, 64, 14, 14).relu()
        >>> wcd(x).shape
        torch.Size([2, 64, 14, 14])
        >>> torch.equal(wcd.eval()(x), x)  # identity at test time
        True

    Deviations:
        No official code was released and the paper's text could not be consulted here; the method follows
        the paper's description (GAP rating, WRS keys ``r^(1/score)``, RNG, rescaling by the ratio of score
        sums, computed here with the final mask after the RNG). The defaults ``wrs_ratio=0.9`` and
        ``q=0.5`` follow a public re-implementation and are unverified against the paper's settings. The
        keys are computed as ``log(r) / score`` (same order, no underflow), and the rescaling factor is
        treated as a constant in back-propagation (as a dropout scale is).

    Reference:
        Hou, Wang. Weighted Channel Dropout for Regularization of Deep Convolutional Neural Network. AAAI 2019.
    """

    def __init__(self, channels: int, wrs_ratio: float = 0.9, q: float = 0.5) -> None:
        super().__init__()
        if not 0 < wrs_ratio <= 1 or not 0 < q <= 1:
            raise ValueError(f"wrs_ratio and q must lie in (0, 1], got {wrs_ratio} and {q}")
        self.channels, self.wrs_ratio, self.q = channels, wrs_ratio, q
        self.num_selected = max(1, int(wrs_ratio * channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if not self.training:
            return x
        dtype = torch.promote_types(x.dtype, torch.float32)  # rate and rescale in at least float32
        score = x.detach().to(dtype).mean((2, 3)).clamp_min(0)  # rating channels: (N, C)
        key = torch.rand_like(score).log() / score  # log of r^(1/score); -inf for a zero score
        top = key.topk(self.num_selected, 1).indices  # weighted random selection of M channels: (N, M)
        mask = torch.zeros_like(score).scatter_(1, top, 1.0)
        mask = mask * torch.bernoulli(torch.full_like(score, self.q))  # random number generator
        kept = (mask * score).sum(1, keepdim=True)
        alpha = torch.where(
            kept > 0, score.sum(1, keepdim=True) / kept.clamp_min(1e-30), torch.ones_like(kept)
        )
        return x * (alpha * mask).to(x.dtype)[:, :, None, None]
