"""SCA-CNN: spatial and channel-wise attention conditioned on a query (a captioning decoder's hidden state).

Paper: "SCA-CNN: Spatial and Channel-wise Attention in Convolutional Networks for Image Captioning", Long Chen,
Hanwang Zhang, Jun Xiao, Liqiang Nie, Jian Shao, Wei Liu, Tat-Seng Chua, CVPR 2017,
https://arxiv.org/abs/1611.05594. Official code (Theano): https://github.com/zjuchenlong/sca-cnn.cvpr17
(``sca_resnet_branch2b.py``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import check_input


def _check_query(h: torch.Tensor, channels: int) -> None:
    """The query is ``(N, d)`` or ``(N, d, 1, 1)``."""
    if isinstance(h, fx.Proxy):
        return
    check_input(h, channels, ndim=2 if isinstance(h, torch.Tensor) and h.dim() == 2 else 4, name="h")


@register(
    "sca-cnn-spatial",
    kind="fusion",
    inputs=((64, 14, 14), (32, 1, 1)),
    odd_inputs=((64, 13, 17), (32, 1, 1)),
    channels=64,
    query_channels=32,
)
class SCASpatialAttention(nn.Module):
    """SCA-CNN spatial attention: a softmax over positions, conditioned on a query vector.

    With ``V`` the ``C x HW`` feature map and ``h`` the query (the LSTM hidden state ``h_{t-1}``),
    ``a = tanh((W_s V + b_s) ⊕ W_hs h)`` (``k`` hidden units per position; ``⊕`` adds the query term to
    every position) and ``alpha = softmax_{HW}(w_i^T a)``. The output re-weights every position,
    ``V * alpha``, times ``HW`` when ``rescale`` (the official code), so that uniform weights leave ``V``
    unchanged.

    Args:
        channels: feature channels ``C``.
        query_channels: query width ``d``.
        attn_channels: hidden attention width ``k`` (official: 512).
        rescale: multiply the weights by the number of positions (official: yes).

    Shape:
        - Input: ``x``: ``(N, C, H, W)``; ``h``: ``(N, d)`` or ``(N, d, 1, 1)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> att = cvattn.create("sca-cnn-spatial", channels=64, query_channels=32)
        >>> att(torch.randn(2, 64, 14, 14), torch.randn(2, 32)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The bias of the last projection (official ``c_att``) is left out: a constant added to every
        logit does not change a softmax, so it would never be trained.

    Reference:
        Chen et al. SCA-CNN: Spatial and Channel-wise Attention in Convolutional Networks for Image
        Captioning. CVPR 2017.
    """

    def __init__(
        self, channels: int, query_channels: int, attn_channels: int = 512, rescale: bool = True
    ) -> None:
        super().__init__()
        self.channels, self.query_channels = channels, query_channels
        self.rescale = rescale
        self.w_s = nn.Conv2d(channels, attn_channels, 1, bias=True)  # W_s, b_s
        self.w_hs = nn.Linear(query_channels, attn_channels, bias=False)  # W_hs
        self.w_i = nn.Conv2d(attn_channels, 1, 1, bias=False)  # w_i

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels, name="x")
        _check_query(h, self.query_channels)
        a = torch.tanh(self.w_s(x) + self.w_hs(h.flatten(1))[:, :, None, None])  # (N, k, H, W)
        logits = self.w_i(a)  # (N, 1, H, W)
        alpha = logits.flatten(1).softmax(1).reshape_as(logits)  # softmax over the HW positions
        if self.rescale:
            alpha = alpha * (x.shape[2] * x.shape[3])
        return x * alpha


@register(
    "sca-cnn-channel",
    kind="fusion",
    inputs=((64, 14, 14), (32, 1, 1)),
    odd_inputs=((64, 13, 17), (32, 1, 1)),
    channels=64,
    query_channels=32,
)
class SCAChannelAttention(nn.Module):
    """SCA-CNN channel-wise attention: a softmax over channels, conditioned on a query vector.

    The feature map is average-pooled to ``u`` (one value per channel); each channel's value is lifted
    to ``k`` hidden units, ``b = tanh((W_c ⊗ u + b_c) ⊕ W_hc h)`` (``W_c``, ``b_c`` in ``R^k``, ``⊗`` the
    outer product), and ``beta = softmax_C(w_i'^T b)``. The output re-weights every channel,
    ``V * beta``, times ``C`` when ``rescale`` (the official code).

    Args:
        channels: feature channels ``C``.
        query_channels: query width ``d``.
        attn_channels: hidden attention width ``k`` (official: 512).
        rescale: multiply the weights by the number of channels (official: yes).

    Shape:
        - Input: ``x``: ``(N, C, H, W)``; ``h``: ``(N, d)`` or ``(N, d, 1, 1)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> att = cvattn.create("sca-cnn-channel", channels=64, query_channels=32)
        >>> att(torch.randn(2, 64, 14, 14), torch.randn(2, 32)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The bias of the last projection is left out (a softmax ignores it, see ``sca-cnn-spatial``).

    Reference:
        Chen et al. SCA-CNN: Spatial and Channel-wise Attention in Convolutional Networks for Image
        Captioning. CVPR 2017.
    """

    def __init__(
        self, channels: int, query_channels: int, attn_channels: int = 512, rescale: bool = True
    ) -> None:
        super().__init__()
        self.channels, self.query_channels = channels, query_channels
        self.rescale = rescale
        self.w_c = nn.Parameter(torch.randn(attn_channels) * 0.01)  # W_c: (k,)
        self.b_c = nn.Parameter(torch.zeros(attn_channels))  # b_c: (k,)
        self.w_hc = nn.Linear(query_channels, attn_channels, bias=False)  # W_hc
        self.w_i = nn.Linear(attn_channels, 1, bias=False)  # w_i'

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels, name="x")
        _check_query(h, self.query_channels)
        u = x.mean((2, 3))  # (N, C)
        b = torch.tanh(u[:, :, None] * self.w_c + self.b_c + self.w_hc(h.flatten(1))[:, None, :])  # (N, C, k)
        beta = self.w_i(b).squeeze(2).softmax(1)  # softmax over the C channels: (N, C)
        if self.rescale:
            beta = beta * self.channels
        return x * beta[:, :, None, None]
