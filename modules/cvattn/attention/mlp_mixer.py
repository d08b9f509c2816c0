"""Token-mixing MLP of MLP-Mixer.

Paper: "MLP-Mixer: An all-MLP Architecture for Vision", Ilya Tolstikhin, Neil Houlsby, Alexander Kolesnikov,
Lucas Beyer, Xiaohua Zhai, Thomas Unterthiner, Jessica Yung, Andreas Steiner, Daniel Keysers, Jakob Uszkoreit,
Mario Lucic, Alexey Dosovitskiy, NeurIPS 2021,
https://proceedings.neurips.cc/paper/2021/hash/cba0a4ee5ccd02fda0fe3f9a3e7b89fe-Abstract.html (arXiv 2105.01601).
Official code (JAX/Flax): https://github.com/google-research/vision_transformer (``vit_jax/models_mixer.py``,
``MixerBlock`` / ``MlpBlock`` named ``token_mixing``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import LayerType, check_input, create_act, match_memory_format

GELU_TANH = partial(nn.GELU, approximate="tanh")
"""The tanh approximation of GELU: ``flax.linen.gelu``'s default, used by the official Mixer."""


def mix_windows(
    x: torch.Tensor, mlp: Callable[[torch.Tensor], torch.Tensor], h: int, w: int
) -> torch.Tensor:
    """Apply ``mlp`` over the ``h*w`` positions (last axis, row-major) of every ``h x w`` window of ``x``.

    ``x`` is zero-padded at the bottom and right to multiples of ``(h, w)`` and the result cropped back; a map of
    exactly ``h x w`` is one window, flattened without padding. Shared by MLP-Mixer's token MLP and gMLP's spatial
    projection.
    """
    n, c, height, width = x.shape
    if not isinstance(x, fx.Proxy) and (height, width) == (h, w):  # one window: the flattened map
        return mlp(x.flatten(2)).view(n, c, h, w)
    ph, pw = (-height) % h, (-width) % w
    xp = F.pad(x, (0, pw, 0, ph))  # (N, C, H', W'), multiples of (h, w)
    gh, gw = (height + ph) // h, (width + pw) // w
    # (N, C, gh, h, gw, w) -> (N, C, gh, gw, h*w)
    t = xp.reshape(n, c, gh, h, gw, w).permute(0, 1, 2, 4, 3, 5).reshape(n, c, gh, gw, h * w)
    u = mlp(t).reshape(n, c, gh, gw, h, w).permute(0, 1, 2, 4, 3, 5).reshape(n, c, height + ph, width + pw)
    return u[:, :, :height, :width]


@register("mlp-mixer", kind="attention", inputs=(64, 14, 14), channels=64, h=14, w=14, tokens_mlp_dim=384)
class TokenMixingMLP(nn.Module):
    """MLP-Mixer token mixing: one MLP across the ``S = h*w`` spatial positions, shared by all channels.

    Each channel's column of tokens ``X[:, c]`` (length ``S``) goes through the same two-layer MLP,
    ``U[:, c] = W2 sigma(W1 X[:, c] + b1) + b2``, with ``W1`` of shape ``(D_S, S)``, ``W2`` of shape
    ``(S, D_S)`` and ``sigma`` the GELU. This is the sub-layer that takes the place of self-attention in a
    Mixer block (``X + U(LayerNorm(X))``, followed by a channel-mixing MLP). Memory grows with
    ``H*W*C`` (linear in ``H*W``); the weights grow with ``(h*w) * D_S``.

    Args:
        channels: channels ``C`` (the hidden dimension; the MLP is shared across them).
        h: height of the token grid the MLP is built for (Mixer at 224 px with 16 px patches: 14).
        w: width of that grid (14).
        tokens_mlp_dim: hidden width ``D_S`` of the token-mixing MLP (official configs: 256 for Mixer-S,
            384 for Mixer-B, 512 for Mixer-L, 640 for Mixer-H).
        act_layer: activation ``sigma``; the official ``flax.linen.gelu`` is the tanh approximation.

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> mix = cvattn.create("mlp-mixer", channels=64, h=14, w=14, tokens_mlp_dim=384)
        >>> mix(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, S, C)`` tokens, and holds only the token-mixing
        MLP (the LayerNorm, residual and channel-mixing MLP of the block are left to the caller). The official
        MLP accepts exactly ``S = h*w`` tokens. For a larger map this module applies the MLP with the same
        weights to every ``h x w`` window, which is the block-diagonal MLP the paper (Appendix C) builds to start
        fine-tuning at a ``K`` times higher resolution; sizes that are not multiples of ``(h, w)`` are first
        zero-padded at the bottom and right and cropped afterwards (a cvattn choice). At the trained size it is
        the official MLP.

    Reference:
        Tolstikhin et al. MLP-Mixer: An all-MLP Architecture for Vision. NeurIPS 2021.
    """

    def __init__(
        self,
        channels: int,
        h: int = 14,
        w: int = 14,
        tokens_mlp_dim: int = 384,
        act_layer: LayerType = GELU_TANH,
    ) -> None:
        super().__init__()
        if min(channels, h, w, tokens_mlp_dim) < 1:
            raise ValueError(
                f"channels, h, w and tokens_mlp_dim must be positive, got {channels}, {h}, {w}, {tokens_mlp_dim}"
            )
        self.channels, self.h, self.w = channels, h, w
        self.fc1 = nn.Linear(h * w, tokens_mlp_dim)
        self.act = create_act(act_layer)
        self.fc2 = nn.Linear(tokens_mlp_dim, h * w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        u = mix_windows(x, lambda t: self.fc2(self.act(self.fc1(t))), self.h, self.w)
        return match_memory_format(u, x)
