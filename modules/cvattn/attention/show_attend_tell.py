"""Show, Attend and Tell: soft (deterministic) visual attention of a caption decoder.

Paper: "Show, Attend and Tell: Neural Image Caption Generation with Visual Attention", Kelvin Xu, Jimmy Ba, Ryan
Kiros, Kyunghyun Cho, Aaron Courville, Ruslan Salakhutdinov, Richard Zemel, Yoshua Bengio, ICML 2015,
https://arxiv.org/abs/1502.03044. Official code (Theano): https://github.com/kelvinxu/arctic-captions
(``capgen.py``: ``param_init_lstm_cond`` and the attention in ``lstm_cond_layer``).
"""

from __future__ import annotations

import torch
from torch import fx, nn

from .._registry import register
from ..layers import check_input


def doubly_stochastic_regularizer(alphas: torch.Tensor) -> torch.Tensor:
    """The paper's doubly stochastic penalty ``sum_i (1 - sum_t alpha_ti)^2`` (Eq. 14 without ``lambda``).

    It pushes the decoder to give every location about as much attention over the whole caption. ``alphas``
    holds the weights of ``T`` steps, ``(N, T, H, W)`` or ``(N, T, L)``; the penalty is summed over the
    locations and averaged over the batch (the official code sums over the batch and averages over the
    locations, a constant factor ``L / N`` apart). Multiply by ``lambda`` (official COCO setting: 1).
    """
    coverage = alphas.flatten(2).sum(1)  # sum_t alpha_ti: (N, L)
    return (1.0 - coverage).square().sum(1).mean()


def _check_query(h: torch.Tensor, channels: int) -> None:
    """The decoder state is ``(N, d)`` or ``(N, d, 1, 1)``."""
    if isinstance(h, fx.Proxy):
        return
    check_input(h, channels, ndim=2 if isinstance(h, torch.Tensor) and h.dim() == 2 else 4, name="h")


@register(
    "show-attend-tell",
    kind="fusion",
    outputs=2,
    inputs=((64, 14, 14), (32, 1, 1)),
    odd_inputs=((64, 13, 17), (32, 1, 1)),
    channels=64,
    query_channels=32,
)
class SoftAttention(nn.Module):
    """Show, Attend and Tell soft attention: a context vector from a feature map, given the decoder state.

    The annotation vectors ``a_i`` are the ``C``-dimensional columns of the feature map at its ``L = H*W``
    positions (the paper: VGG conv5, 14 x 14 x 512). Each is scored against the previous LSTM state ``h``
    by an MLP, ``e_i = u^T tanh(P(a_i) + W_h h)`` with ``P`` a 1x1 projection plus bias (and, when
    ``attn_layers > 1``, further projections, each followed by tanh, as the official "deep" attention);
    ``alpha = softmax_i(e_i)`` and the context vector is the expectation ``z = sum_i alpha_i a_i``. With
    ``selector`` (the gating scalar of Sec. 4.2.1) it is scaled by ``beta = sigmoid(w_beta^T h + b)``.
    Pair it with :func:`doubly_stochastic_regularizer` over the steps of a caption.

    Args:
        channels: feature channels ``C`` (the annotation dimension ``D``).
        query_channels: decoder state width ``d``.
        attn_layers: layers of the projection ``P`` (official ``n_layers_att``; the COCO setting: 2).
        selector: apply the gating scalar ``beta`` (official COCO setting: yes).

    Shape:
        - Input: ``x``: ``(N, C, H, W)`` features; ``h``: ``(N, d)`` or ``(N, d, 1, 1)`` decoder state
        - Output: ``(z, alpha)``: the context vector ``(N, C)`` and the attention weights ``(N, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> att = cvattn.create("show-attend-tell", channels=512, query_channels=1800)
        >>> z, alpha = att(torch.randn(2, 512, 14, 14), torch.randn(2, 1800))
        >>> z.shape, alpha.shape
        (torch.Size([2, 512]), torch.Size([2, 14, 14]))

    Deviations:
        The scalar bias of the last projection (official ``c_tt``) is left out: a constant added to every
        logit does not change the softmax, so it would never be trained. The attention MLP's hidden width is
        ``C``, as in the official code.

    Reference:
        Xu et al. Show, Attend and Tell: Neural Image Caption Generation with Visual Attention. ICML 2015.
    """

    def __init__(
        self, channels: int, query_channels: int, attn_layers: int = 2, selector: bool = True
    ) -> None:
        super().__init__()
        if attn_layers < 1:
            raise ValueError(f"attn_layers: expected at least 1, got {attn_layers}")
        self.channels, self.query_channels = channels, query_channels
        self.w_a = nn.Conv2d(channels, channels, 1)  # official Wc_att, b_att
        self.w_deep = nn.ModuleList(
            nn.Conv2d(channels, channels, 1) for _ in range(attn_layers - 1)
        )  # W_att_i
        self.w_h = nn.Linear(query_channels, channels, bias=False)  # Wd_att
        self.u = nn.Conv2d(channels, 1, 1, bias=False)  # U_att
        self.selector = nn.Linear(query_channels, 1) if selector else None  # W_sel, b_sel

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_input(x, self.channels, name="x")
        _check_query(h, self.query_channels)
        h = h.flatten(1)  # (N, d)
        p = self.w_a(x)  # projected annotations: (N, C, H, W)
        for layer in self.w_deep:
            p = torch.tanh(layer(p))
        e = self.u(torch.tanh(p + self.w_h(h)[:, :, None, None]))  # (N, 1, H, W)
        alpha = e.flatten(1).softmax(1)  # over the L = H*W locations: (N, L)
        z = torch.bmm(x.flatten(2), alpha.unsqueeze(2)).squeeze(2)  # sum_i alpha_i a_i: (N, C)
        if self.selector is not None:
            z = z * torch.sigmoid(self.selector(h))  # gating scalar beta
        return z, alpha.reshape_as(e[:, 0])  # (N, H, W)
