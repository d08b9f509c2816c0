"""Skip-Squeeze-Excitation (SSE) of ParNet, the gated skip branch of its RepVGG-SSE block.

Paper: "Non-deep Networks", Ankit Goyal, Alexey Bochkovskiy, Jia Deng, Vladlen Koltun, NeurIPS 2022,
https://proceedings.neurips.cc/paper_files/paper/2022/hash/2d52879ef2ba487445ca2e143b104c3b-Abstract-Conference.html
(arXiv 2110.07641). Official code: https://github.com/imankgoyal/NonDeepNetworks
(``imagenet/timm/models/simplenet_impl/repvgg.py``, ``RepVGGBlock`` with ``se_block=True``: ``rbr_identity``
and ``se``, the latter ``SE1`` in ``utils.py``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format


@register("parnet-sse", kind="attention", inputs=(64, 14, 14), channels=64)
class SkipSqueezeExcitation(nn.Module):
    """ParNet SSE: a batch-normalised skip connection re-weighted by a single-layer squeeze-excitation gate.

    The skip branch is batch-normalised, ``z = BN(x)``; its channels are squeezed by global average pooling
    and excited by one 1x1 convolution without bias and a sigmoid (no bottleneck, which keeps the block
    shallow), ``s = sigmoid(W GAP(z))``; the output is ``z * s``. In ParNet this branch is summed with a
    3x3 conv-BN and a 1x1 conv-BN branch and passed through SiLU (the RepVGG-SSE block). Memory grows with
    ``H*W*C`` (the normalised map; the gate is ``C`` values).

    Args:
        channels: channels ``C`` (input and output).
        groups: groups of the 1x1 excitation convolution (official: 1 in every ParNet block).
        norm_layer: normalisation of the skip branch (BatchNorm).
        gate_layer: gating function (sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> sse = cvattn.create("parnet-sse", channels=64)
        >>> sse(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Only the SSE branch is provided, not the whole RepVGG-SSE block (its conv branches and SiLU) nor the
        downsampling variant, where the official code gates the block's output by ``2 * sigmoid(.)`` of the
        input. Global pooling is a mean over ``H, W`` (the official ``AdaptiveAvgPool2d(1)``).

    Reference:
        Goyal, Bochkovskiy, Deng, Koltun. Non-deep Networks. NeurIPS 2022.
    """

    def __init__(
        self,
        channels: int,
        groups: int = 1,
        norm_layer: LayerType = nn.BatchNorm2d,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        if channels < 1 or groups < 1 or channels % groups:
            raise ValueError(f"channels ({channels}) must be a positive multiple of groups ({groups})")
        self.channels = channels
        self.bn = norm_layer(channels)
        self.fc = nn.Conv2d(channels, channels, 1, groups=groups, bias=False)
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = self.bn(x)  # skip branch: (N, C, H, W)
        s = self.gate(self.fc(z.mean((2, 3), keepdim=True)))  # squeeze-excitation: (N, C, 1, 1)
        return match_memory_format(z * s, x)
