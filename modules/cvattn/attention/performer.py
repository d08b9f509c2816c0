"""Performer (FAVOR+) self-attention over the positions of a feature map.

Paper: "Rethinking Attention with Performers", Krzysztof Choromanski, Valerii Likhosherstov, David Dohan,
Xingyou Song, Andreea Gane, Tamas Sarlos, Peter Hawkins, Jared Davis, Afroz Mohiuddin, Lukasz Kaiser,
David Belanger, Lucy Colwell, Adrian Weller, ICLR 2021, https://arxiv.org/abs/2009.14794.
Official code: https://github.com/google-research/google-research/tree/master/performer
(``fast_attention/tensorflow/fast_attention.py``: ``create_projection_matrix``,
``softmax_kernel_transformation``, ``favor_attention``, ``Attention``; ``fast_attention/jax/fast_attention.py``:
``make_fast_softmax_attention`` defaults).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .._registry import register
from ..layers import check_input


def orthogonal_random_matrix(
    num_rows: int,
    num_columns: int,
    scaling: int = 0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Random projections ``W`` of shape ``(m, d)`` whose rows are orthogonal within each block of ``d`` rows.

    Each block is the transposed ``Q`` of the QR decomposition of a ``d x d`` Gaussian matrix (the last block
    is cut to the remaining rows). Row lengths follow the ``chi(d)`` distribution of Gaussian vectors
    (``scaling=0``) or are all ``sqrt(d)`` (``scaling=1``), as the official ``create_projection_matrix``.
    The columns of ``Q`` are multiplied by the signs of ``R``'s diagonal, which makes ``Q`` uniformly
    distributed over the orthogonal group (Mezzadri, 2007); without it, as in the official code, the LAPACK
    sign convention biases every row's direction and the kernel estimate.
    """
    if scaling not in (0, 1):
        raise ValueError(f"scaling must be 0 or 1, got {scaling}")
    blocks = []
    for _ in range(math.ceil(num_rows / num_columns)):
        q, r = torch.linalg.qr(torch.randn(num_columns, num_columns, generator=generator))
        q = q * torch.sign(torch.diagonal(r)).where(
            torch.diagonal(r) != 0, 1.0
        )  # uniform (Haar) Q, see below
        blocks.append(q.T)
    w = torch.cat(blocks)[:num_rows]  # (m, d), orthogonal rows inside each block
    if scaling == 0:
        multiplier = torch.randn(num_rows, num_columns, generator=generator).norm(dim=1)
    else:
        multiplier = torch.full((num_rows,), math.sqrt(num_columns))
    return multiplier[:, None] * w


def softmax_kernel_features(
    data: torch.Tensor, projection: torch.Tensor, is_query: bool, eps: float = 1e-6
) -> torch.Tensor:
    """Positive random features ``phi(x)`` of the softmax kernel, ``(..., L, d) -> (..., L, m)``.

    ``phi(x) = m^-1/2 (exp(w_i . x' - |x'|^2 / 2 - s) + eps)`` with ``x' = d^-1/4 x`` (so that
    ``E[phi(q) . phi(k)] ~ exp(q . k / sqrt(d))``) and the stabiliser ``s``: the maximum over the features of
    each query, or over the features and all positions for the keys (the official
    ``softmax_kernel_transformation``). ``s`` and ``eps`` cancel out of the normalised attention up to ``eps``.
    """
    d, m = data.shape[-1], projection.shape[0]
    data = data * d**-0.25  # x'
    data_dash = data @ projection.T.to(data.dtype)  # w_i . x': (..., L, m)
    diag = data.square().sum(-1, keepdim=True) / 2  # |x'|^2 / 2: (..., L, 1)
    if is_query:
        stab = data_dash.amax(-1, keepdim=True)  # per query: (..., L, 1)
    else:
        stab = data_dash.amax((-2, -1), keepdim=True)  # over all keys and features: (..., 1, 1)
    return m**-0.5 * (torch.exp(data_dash - diag - stab) + eps)


def favor_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, projection: torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    """FAVOR+ estimate of ``softmax(q k^T / sqrt(d)) v`` in linear time: ``D^-1 phi(Q) (phi(K)^T V)``.

    ``q, k``: ``(..., L, d)``, ``v``: ``(..., L, d_v)``, ``projection``: ``(m, d)``; returns ``(..., L, d_v)``.
    """
    q_prime = softmax_kernel_features(q, projection, is_query=True, eps=eps)  # phi(Q): (..., L, m)
    k_prime = softmax_kernel_features(k, projection, is_query=False, eps=eps)  # phi(K): (..., L, m)
    kv = k_prime.transpose(-2, -1) @ v  # phi(K)^T V: (..., m, d_v)
    numerator = q_prime @ kv  # (..., L, d_v)
    denominator = q_prime @ k_prime.sum(-2).unsqueeze(-1)  # D = phi(Q) (phi(K)^T 1_L): (..., L, 1)
    return numerator / denominator


@register("performer", kind="attention", inputs=(64, 14, 14), channels=64)
class PerformerAttention2d(nn.Module):
    """Performer self-attention: FAVOR+ softmax attention over the ``H*W`` positions, linear in ``H*W``.

    Queries, keys and values are 1x1 projections (no bias) split into ``num_heads`` heads of width
    ``d = C / num_heads``; every position attends to every position with the FAVOR+ estimate of
    ``softmax(Q K^T / sqrt(d)) V``: positive random features ``phi`` built from ``m`` orthogonal Gaussian
    projections (shared by the heads) give ``D^-1 phi(Q) (phi(K)^T V)`` with ``D = phi(Q) phi(K)^T 1``. The
    heads are merged by a 1x1 output projection (no bias) and added to the input: ``y = x + W_o FAVOR(x)``.

    The projections are a buffer drawn at construction, so evaluation is deterministic; call
    :meth:`redraw_projection_matrix` (e.g. every few training steps) to draw new ones.

    Memory and time grow linearly with ``H*W``: the features take ``O(H*W * m)`` per head and the context
    ``phi(K)^T V`` ``O(m * d)``; no ``H*W x H*W`` matrix is formed (exact attention needs ``O((H*W)^2)``).

    Args:
        channels: input channels ``C`` (also the attention width, the official ``hidden_size``).
        num_heads: number of heads; must divide ``channels`` (8; the official layer has no default).
        num_features: number of random features ``m`` (256, the official ``nb_features``).
        scaling: lengths of the projections: 0 draws them from ``chi(d)`` as Gaussian vectors (default, as
            official), 1 sets them all to ``sqrt(d)``.
        eps: numerical stabiliser added to every feature (1e-6, the official softmax kernel's).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> performer = cvattn.create("performer", channels=64, num_heads=4, num_features=128)
        >>> performer.projection_matrix.shape
        torch.Size([128, 16])
        >>> performer(torch.randn(2, 64, 13, 17)).shape
        torch.Size([2, 64, 13, 17])

    Deviations:
        The official layers draw new projections on every call from a seed computed from the queries
        (``redraw_features=True``); here they are kept in a buffer until :meth:`redraw_projection_matrix` is
        called. The official ``Attention`` returns the projected attention only; the residual addition of
        the Transformer layer is included here (without its LayerNorm and feed-forward), so the module can
        be inserted into a convolutional network. The normaliser is divided directly, as in the TensorFlow
        ``favor_attention`` (the JAX version adds ``2 eps`` where ``|D| <= eps``, which the ``eps`` features
        already keep away from zero). Each orthogonal block's ``Q`` is sign-corrected by the diagonal of
        ``R``: the official code uses ``qr`` as is; with Householder QR (LAPACK, as in torch) the sign
        convention makes the directions non-uniform (one coordinate of each row always negative) and
        biases the estimate, which then stops converging to softmax attention as ``num_features`` grows.

    Reference:
        Choromanski et al. Rethinking Attention with Performers. ICLR 2021.
    """

    projection_matrix: torch.Tensor

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        num_features: int = 256,
        scaling: int = 0,
        eps: float = 1e-6,
    ) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.channels, self.num_heads, self.head_dim = channels, num_heads, channels // num_heads
        self.num_features, self.scaling, self.eps = num_features, scaling, eps
        self.query = nn.Conv2d(channels, channels, 1, bias=False)
        self.key = nn.Conv2d(channels, channels, 1, bias=False)
        self.value = nn.Conv2d(channels, channels, 1, bias=False)
        self.proj = nn.Conv2d(channels, channels, 1, bias=False)
        for conv in (self.query, self.key, self.value, self.proj):  # official Glorot-uniform init
            nn.init.xavier_uniform_(conv.weight)
        self.register_buffer(
            "projection_matrix", orthogonal_random_matrix(num_features, self.head_dim, scaling)
        )

    @torch.no_grad()
    def redraw_projection_matrix(self, generator: torch.Generator | None = None) -> None:
        """Draw new random projections in place (same shape, device and dtype)."""
        w = orthogonal_random_matrix(self.num_features, self.head_dim, self.scaling, generator)
        self.projection_matrix.copy_(w)

    def split_heads(self, t: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, heads, H*W, d)``."""
        return t.flatten(2).unflatten(1, (self.num_heads, self.head_dim)).transpose(2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        q = self.split_heads(self.query(x))  # (N, heads, HW, d)
        k = self.split_heads(self.key(x))  # (N, heads, HW, d)
        v = self.split_heads(self.value(x))  # (N, heads, HW, d)
        out = favor_attention(q, k, v, self.projection_matrix, self.eps)  # (N, heads, HW, d)
        out = out.transpose(2, 3).reshape(x.shape)  # (N, C, H, W)
        return x + self.proj(out)
