"""Dense-and-implicit attention (DIA) unit: one LSTM-based channel attention shared by all blocks of a stage.

Paper: "DIANet: Dense-and-Implicit Attention Network", Zhongzhan Huang, Senwei Liang, Mingfu Liang, Haizhao Yang,
AAAI 2020, https://arxiv.org/abs/1905.10671.
Official code: https://github.com/gbup-group/DIANet (``models/cifar/dia_resnet.py``: ``small_cell``,
``LSTMCell``, ``Attention``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@register("dianet", kind="block", inputs=((64, 14, 14), (2, 64)), outputs=2, channels=64)
class DIAUnit(nn.Module):
    """DIA unit: a modified LSTM cell, shared across blocks, whose hidden state is each block's channel gate.

    One unit serves all blocks of a stage. Block ``t`` pools its features, ``m_t = mean_{H,W}(x_t)``, and
    steps the LSTM from the state left by block ``t-1``: ``[i, f, g, o] = W_ih(m_t) + W_hh(h_{t-1})``,
    ``c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g)``, ``h_t = sigmoid(o) * sigmoid(c_t)``. The
    hidden state ``h_t`` (in (0, 1): the modified cell uses a sigmoid where an LSTM has ``tanh(c_t)``)
    is the gate, and ``x_t * h_t`` is returned with the new state. ``W_ih`` and ``W_hh`` are small
    bottleneck MLPs, ``Linear(C, C/r) -> ReLU -> Linear(C/r, 4C)``, instead of an LSTM's single linear
    maps. Because the parameters are shared and the state is carried, each gate depends on all the
    blocks before it.

    Interface (as the official ``Attention`` stage loop): ``out, state = dia(x, state)`` in every block of
    the stage, with ``state=None`` in the first block (zero hidden and cell state); in the official
    ResNets ``x`` is the residual branch before the addition, and ``relu(out + identity)`` follows.

    Args:
        channels: input channels ``C``, also the LSTM's hidden size.
        reduction: reduction ratio ``r`` inside ``W_ih`` and ``W_hh`` (official and paper: 4).
        act_layer: activation inside ``W_ih`` and ``W_hh`` (ReLU).

    Shape:
        - Input: ``x``: ``(N, C, H, W)``; ``state``: ``(N, 2, C)`` (``state[:, 0]`` the hidden state
          ``h``, ``state[:, 1]`` the cell state ``c``) or ``None``
        - Output: a tuple ``(x * h, new_state)`` of shapes ``(N, C, H, W)`` and ``(N, 2, C)``

    Examples:
        >>> import torch, cvattn
        >>> dia = cvattn.create("dianet", channels=64)  # one unit for the whole stage
        >>> x, state = torch.randn(2, 64, 16, 16), None
        >>> for _ in range(3):  # three blocks of the stage share it
        ...     x, state = dia(x, state)
        >>> x.shape, state.shape
        (torch.Size([2, 64, 16, 16]), torch.Size([2, 2, 64]))

    Deviations:
        The hidden and cell states travel as one stacked ``(N, 2, C)`` tensor (the official code keeps two
        ``(layers, N, C)`` tensors). Only the single-layer cell the official networks use is provided, so
        the official cell's dropout between stacked layers (which never acts on a single layer) is left
        out. Parameters as official: ``2 (C C/r + C/r + 4C C/r + 4C)``.

    Reference:
        Huang, Liang, Liang, Yang. DIANet: Dense-and-Implicit Attention Network. AAAI 2020.
    """

    def __init__(self, channels: int, reduction: int = 4, act_layer: LayerType = nn.ReLU) -> None:
        super().__init__()
        self.channels = channels
        hidden = max(1, channels // reduction)
        self.w_ih = nn.Sequential(
            nn.Linear(channels, hidden), create_act(act_layer, inplace=True), nn.Linear(hidden, 4 * channels)
        )
        self.w_hh = nn.Sequential(
            nn.Linear(channels, hidden), create_act(act_layer, inplace=True), nn.Linear(hidden, 4 * channels)
        )

    def forward(
        self, x: torch.Tensor, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        check_input(x, self.channels, name="x")
        m = x.mean((2, 3))  # pooled features of this block: (N, C)
        if state is None:
            h = c = torch.zeros_like(m)  # first block of the stage: (N, C)
        else:
            check_input(state, ndim=3, name="state")
            if not isinstance(state, fx.Proxy) and tuple(state.shape[1:]) != (2, self.channels):
                raise ValueError(f"state: expected shape (N, 2, {self.channels}), got {tuple(state.shape)}")
            h, c = state.unbind(1)  # previous hidden and cell state: (N, C) each
        i, f, g, o = (self.w_ih(m) + self.w_hh(h)).chunk(4, 1)  # (N, C) each
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.sigmoid(c)  # the gate: (N, C)
        return x * h[:, :, None, None], torch.stack([h, c], 1)
