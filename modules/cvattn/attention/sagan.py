"""Self-attention block of SAGAN.

Paper: "Self-Attention Generative Adversarial Networks", Han Zhang, Ian Goodfellow, Dimitris Metaxas,
Augustus Odena, ICML 2019, https://proceedings.mlr.press/v97/zhang19d.html. Official code (TensorFlow):
https://github.com/brain-research/self-attention-gan (``non_local.py``, ``sn_non_local_block_sim``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn
from torch.nn.utils.parametrizations import spectral_norm as _spectral_norm

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


@register("sagan", kind="attention", inputs=(64, 14, 14), channels=64, zero_init=False)
class SAGANAttention(nn.Module):
    """SAGAN self-attention: softmax attention over 2x2 max-pooled keys and values, added by a learnt scale.

    With 1x1 convolutions ``f``, ``g`` (to ``C/8`` channels) and ``h`` (to ``C/2``), the paper's
    ``beta_ji = softmax_i(s_ij)`` with ``s_ij = f(x_i) . g(x_j)`` (no scaling) weighs location ``i`` when
    synthesising location ``j``: ``g`` gives the queries, ``f`` the keys. Then ``o_j = v(sum_i beta_ji
    h(x_i))`` with a 1x1 convolution ``v`` back to ``C`` channels, and ``y = x + gamma * o``. As in the official code, keys and
    values are max-pooled 2x2 with stride 2 (floor, ``valid`` padding), so ``i`` runs over ``H*W/4``
    positions, every convolution has no bias and carries spectral normalisation (one power iteration),
    and ``gamma`` starts at 0. Plain softmax attention, computed by ``scaled_dot_product_attention``.
    Memory grows with ``(H*W) * (H*W/4)``.

    Args:
        channels: input and output channels ``C`` (official: ``C/8`` and ``C/2`` by integer division).
        qk_reduction: query/key width ``C / qk_reduction`` (official: 8).
        v_reduction: value width ``C / v_reduction`` (official: 2).
        spectral_norm: spectral normalisation of the four 1x1 convolutions (official: true).
        zero_init: start ``gamma`` at 0, as the paper and the official code (default true; the registry's
            example configuration uses false, ``gamma = 0.1``, so that gradients reach every parameter).

    Shape:
        - Input: ``(N, C, H, W)``, ``H, W >= 2``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("sagan", channels=64)
        >>> attn(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official code reshapes the pooled map into ``H*W // 4`` positions, which only works for even
        ``H`` and ``W``; here any size with ``H, W >= 2`` works, the pooling dropping the last odd row or
        column as ``valid`` max pooling does. The power-iteration vector ``u`` of the spectral
        normalisation is PyTorch's (``torch.nn.utils.parametrizations.spectral_norm``: drawn at construction,
        updated at every training-mode forward) instead of the official TF variable and its update
        collections. The registry's example configuration starts ``gamma`` at 0.1 (``zero_init=False``).

    Reference:
        Zhang, Goodfellow, Metaxas, Odena. Self-Attention Generative Adversarial Networks. ICML 2019.
    """

    def __init__(
        self,
        channels: int,
        qk_reduction: int = 8,
        v_reduction: int = 2,
        spectral_norm: bool = True,
        zero_init: bool = True,
    ) -> None:
        super().__init__()
        qk_channels, v_channels = channels // max(qk_reduction, 1), channels // max(v_reduction, 1)
        if qk_reduction < 1 or v_reduction < 1 or qk_channels < 1 or v_channels < 1:
            raise ValueError(
                f"channels ({channels}) must be at least qk_reduction ({qk_reduction}) and v_reduction "
                f"({v_reduction}), both positive"
            )
        self.channels = channels

        def conv(cin: int, cout: int) -> nn.Module:
            layer = nn.Conv2d(cin, cout, 1, bias=False)
            nn.init.xavier_uniform_(layer.weight)  # the official Xavier initialiser
            return _spectral_norm(layer) if spectral_norm else layer

        self.query = conv(channels, qk_channels)  # g (official: theta)
        self.key = conv(channels, qk_channels)  # f (official: phi)
        self.value = conv(channels, v_channels)  # h (official: g)
        self.out = conv(v_channels, channels)  # v (official: attn)
        self.gamma = nn.Parameter(torch.zeros(()) if zero_init else torch.full((), 0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        if not isinstance(x, fx.Proxy) and min(x.shape[-2:]) < 2:
            raise ValueError(f"input: H and W must be at least 2 (2x2 max pooling), got {tuple(x.shape)}")
        q = to_tokens(self.query(x))  # (N, HW, C/8)
        k = to_tokens(F.max_pool2d(self.key(x), 2, 2))  # (N, HW/4, C/8)
        v = to_tokens(F.max_pool2d(self.value(x), 2, 2))  # (N, HW/4, C/2)
        context = F.scaled_dot_product_attention(q, k, v, scale=1.0)  # (N, HW, C/2)
        o = self.out(from_tokens(context, x.shape[-2:]))  # (N, C, H, W)
        return match_memory_format(x + self.gamma * o, x)
