"""Global-and-local attention (GALA): an SE-style channel map and a convolutional spatial map, combined.

Paper: "Learning what and where to attend", Drew Linsley, Dan Shiebler, Sven Eberhardt, Thomas Serre, ICLR 2019,
https://openreview.net/forum?id=BJgLg3R9KQ (arXiv 1805.08819). Official code (TensorFlow, for Cloud TPUs):
https://github.com/serre-lab/gala_tpu (``resnet_helpers.py``, ``LayerHelper.feature_attention_gala``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format


@register("gala", kind="attention", inputs=(64, 14, 14), channels=64)
class GALA(nn.Module):
    """GALA: a per-channel global map and a per-position local map, mixed additively and multiplicatively.

    Global (what): ``g = ReLU(W_2 ReLU(W_1 GAP(x) + b_1) + b_2)``, one value per channel (an SE excitation
    without its sigmoid). Local (where): a 1x1 convolution to ``C/r`` channels and ReLU, ``extra_convs``
    ``k x k`` convolutions with ReLU, and a 1x1 convolution to one channel, ``l``, one value per position.
    The two are broadcast to ``(C, H, W)`` and combined with learned per-channel weights ``a`` and ``m``,
    ``A = sigmoid(a * (g + l) + m * (g * l))``; the output is ``x * A``. Memory grows with ``H*W*C``
    (the combined attention volume).

    Args:
        channels: channels ``C``.
        reduction: ratio ``r`` of the hidden width ``int(C / r)`` of both pathways (official: 4).
        extra_convs: ``k x k`` convolutions in the local pathway after the first 1x1 (official: 1).
        extra_kernel_size: their kernel size ``k``, padded to keep the size (official: 5).
        act_layer: activation of both pathways (ReLU).
        gate_layer: squashing function of the combined map (official code: sigmoid).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> gala = cvattn.create("gala", channels=64)
        >>> gala(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Follows the official TensorFlow code (``feature_attention_gala`` as ``add_attention`` calls it), which
        differs from the paper's equations in three places, all kept here: the combined map is squashed by a
        sigmoid (the paper writes tanh; pass ``gate_layer=nn.Tanh`` for it), the local pathway has an extra
        5x5 convolution (``extra_convs=0`` gives the paper's two 1x1 convolutions), and the global map is
        passed through a ReLU (the default activation of TensorFlow's ``fully_connected``). The ClickMe
        supervision of the attention map is a training loss and not part of the module. ``a`` and ``m`` are
        initialised from a truncated normal as TensorFlow's ``variance_scaling_initializer`` does for them.

    Reference:
        Linsley, Shiebler, Eberhardt, Serre. Learning what and where to attend. ICLR 2019.
    """

    def __init__(
        self,
        channels: int,
        reduction: float = 4,
        extra_convs: int = 1,
        extra_kernel_size: int = 5,
        act_layer: LayerType = nn.ReLU,
        gate_layer: LayerType = nn.Sigmoid,
    ) -> None:
        super().__init__()
        hidden = int(channels / reduction)
        if hidden < 1 or extra_convs < 0 or extra_kernel_size < 1 or extra_kernel_size % 2 == 0:
            raise ValueError(
                f"need int(channels / reduction) >= 1 (got {channels} / {reduction}), extra_convs >= 0 and an "
                f"odd extra_kernel_size (got {extra_convs}, {extra_kernel_size})"
            )
        self.channels = channels
        # global pathway: squeeze-excitation without the sigmoid
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)
        self.global_act = create_act(act_layer)
        # local pathway: 1x1, extra k x k, 1x1 to a single map
        layers: list[nn.Module] = [nn.Conv2d(channels, hidden, 1), create_act(act_layer)]
        for _ in range(extra_convs):
            layers += [
                nn.Conv2d(hidden, hidden, extra_kernel_size, padding=extra_kernel_size // 2),
                create_act(act_layer),
            ]
        layers.append(nn.Conv2d(hidden, 1, 1))
        self.local = nn.Sequential(*layers)
        std = 1.0 / 0.87962566103423978  # variance scaling (fan_in 1), truncated at two deviations
        self.alpha = nn.Parameter(
            nn.init.trunc_normal_(torch.empty(channels), std=std, a=-2 * std, b=2 * std)
        )
        self.beta = nn.Parameter(nn.init.trunc_normal_(torch.empty(channels), std=std, a=-2 * std, b=2 * std))
        self.gate = create_act(gate_layer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        z = x.mean((2, 3))  # GAP: (N, C)
        g = self.global_act(self.fc2(self.global_act(self.fc1(z))))[:, :, None, None]  # what: (N, C, 1, 1)
        s = self.local(x)  # where: (N, 1, H, W)
        a, m = self.alpha[:, None, None], self.beta[:, None, None]
        attn = self.gate(a * (g + s) + m * (g * s))  # (N, C, H, W)
        return match_memory_format(x * attn, x)
