"""Global context block.

Paper: "GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond", Yue Cao, Jiarui Xu, Stephen Lin,
Fangyun Wei, Han Hu, ICCV Workshops 2019, https://arxiv.org/abs/1904.11492.
Official code: https://github.com/xvjiarui/GCNet (``mmdet/ops/gcb/context_block.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@register("gcnet", kind="attention", inputs=(64, 14, 14), channels=64)
class GlobalContextBlock(nn.Module):
    """Global context (GC) block: one query-independent attention map pools a global context vector,
    which a bottleneck transforms and adds to every position.

    Context modelling: ``a = softmax_{HW}(W_k x)`` (a 1x1 conv to one map, softmax over positions) and
    ``c = sum_j a_j x_j``. Transform: ``t = W_v2 ReLU(LN(W_v1 c))`` with ``W_v1: C -> C*ratio``. Fusion:
    ``z = x + t`` broadcast over positions (the official default ``channel_add``). Cost and memory grow
    linearly with ``H*W``: the attention map is shared by all queries (the non-local observation).

    Args:
        channels: input channels ``C``.
        ratio: bottleneck ratio (official 1/16); hidden width ``int(C * ratio)``.
        act_layer: activation inside the bottleneck (ReLU).
        zero_init: start the last 1x1 convolution at zero, as the official code, so the block starts as
            an identity (default false, see Deviations).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gc = cvattn.create("gcnet", channels=64)
        >>> gc(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        ``zero_init`` defaults to false because a zero last layer stops the gradient to every other
        parameter at the first step (the package's gradient check); pass ``zero_init=True`` for the
        official initialisation. The official ``channel_mul`` fusion and average pooling are not provided.

    Reference:
        Cao, Xu, Lin, Wei, Hu. GCNet: Non-local Networks Meet Squeeze-Excitation Networks and Beyond.
        ICCV Workshops 2019.
    """

    def __init__(
        self, channels: int, ratio: float = 1 / 16, act_layer: LayerType = nn.ReLU, zero_init: bool = False
    ) -> None:
        super().__init__()
        self.channels = channels
        hidden = max(1, int(channels * ratio))
        self.conv_mask = nn.Conv2d(channels, 1, 1)
        self.transform = nn.Sequential(
            nn.Conv2d(channels, hidden, 1),
            nn.LayerNorm([hidden, 1, 1]),
            create_act(act_layer, inplace=True),
            nn.Conv2d(hidden, channels, 1),
        )
        if zero_init:
            nn.init.zeros_(self.transform[-1].weight)
            nn.init.zeros_(self.transform[-1].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        a = torch.softmax(self.conv_mask(x).flatten(2), -1)  # attention over positions: (N, 1, HW)
        context = (x.flatten(2) @ a.transpose(1, 2)).unsqueeze(-1)  # c = sum_j a_j x_j: (N, C, 1, 1)
        return x + self.transform(context)
