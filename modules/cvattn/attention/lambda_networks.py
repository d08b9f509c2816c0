"""Lambda layer with a content lambda and local position lambdas (lambda convolution).

Paper: "LambdaNetworks: Modeling Long-Range Interactions Without Attention", Irwan Bello, ICLR 2021,
https://openreview.net/forum?id=xTJEN-ggl1b (arXiv https://arxiv.org/abs/2102.08602). No code repository was
released; the paper's equations and its pseudo-code for the multi-query lambda layer and the lambda
convolution are the reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, get_layer


@register("lambda-networks", kind="attention", inputs=(64, 14, 14), channels=64, heads=4, key_dim=16, r=23)
class LambdaLayer(nn.Module):
    """Multi-query lambda layer: summarise the context into linear maps (lambdas) applied to each query.

    With queries ``q_n`` (``heads`` x ``k``), keys ``K`` (``k`` x ``u`` per position) and values ``V``
    (``v`` x ``u``, ``v = C / heads``), all 1x1 projections without bias, queries and values batch-
    normalised: the content lambda ``lambda^c = sum_m softmax_m(K_m) V_m^T`` (``k x v``, keys normalised
    over the context positions ``m``, summed over the intra-depth ``u``) is shared by every position; the
    position lambda of pixel ``n`` is ``lambda^p_n = sum_{m in r x r around n} E_{n-m} V_m^T``, a
    convolution of the values with learnt relative embeddings ``E`` (``k x u x r x r``, zero padding). Each
    head's output is ``y_n = (lambda^c + lambda^p_n)^T q_n``; heads are concatenated. No attention map
    is formed: memory grows with ``H*W*k*v`` (one ``k x v`` position lambda per pixel).

    Args:
        channels: channels ``C`` in and out (``heads * v``).
        heads: number of queries per position ``|h|`` (paper: 4).
        key_dim: query and key depth ``|k|`` (paper: 16).
        intra_depth: intra-depth ``|u|`` of keys and values (paper's LambdaResNets: 1).
        r: size of the local context of the position lambdas (paper's LambdaResNets: 23; odd).
        norm_layer: normalisation of queries and values (batch norm).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> lam = cvattn.create("lambda-networks", channels=64, heads=4, key_dim=16, r=23)
        >>> lam(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        No official code repository exists; this follows the paper's pseudo-code. Only the lambda
        convolution form of the position lambdas is provided (not the global relative embeddings, which
        need a fixed input size).

    Reference:
        Bello. LambdaNetworks: Modeling Long-Range Interactions Without Attention. ICLR 2021.
    """

    def __init__(
        self,
        channels: int,
        heads: int = 4,
        key_dim: int = 16,
        intra_depth: int = 1,
        r: int = 23,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        if heads < 1 or channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        if key_dim < 1 or intra_depth < 1:
            raise ValueError(f"key_dim and intra_depth must be >= 1, got {key_dim}, {intra_depth}")
        if r < 1 or r % 2 == 0:
            raise ValueError(f"r must be a positive odd size, got {r}")
        norm = get_layer(norm_layer) or nn.Identity
        self.channels, self.heads, self.key_dim, self.intra_depth, self.r = (
            channels,
            heads,
            key_dim,
            intra_depth,
            r,
        )
        self.value_dim = channels // heads
        self.to_q = nn.Conv2d(channels, heads * key_dim, 1, bias=False)
        self.to_k = nn.Conv2d(channels, key_dim * intra_depth, 1, bias=False)
        self.to_v = nn.Conv2d(channels, self.value_dim * intra_depth, 1, bias=False)
        self.norm_q = norm(heads * key_dim)
        self.norm_v = norm(self.value_dim * intra_depth)
        self.embedding = nn.Parameter(torch.randn(key_dim, intra_depth, 1, r, r) * key_dim**-0.5)  # E

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, c, h, w = x.shape
        k_dim, u, v_dim = self.key_dim, self.intra_depth, self.value_dim
        q = self.norm_q(self.to_q(x)).reshape(n, self.heads, k_dim, -1)  # (N, heads, k, HW)
        keys = self.to_k(x).reshape(n, u, k_dim, -1).softmax(dim=-1)  # (N, u, k, HW), normalised over m
        v = self.norm_v(self.to_v(x))  # (N, u*v, H, W)
        content_lambda = torch.einsum("nukm,nuvm->nkv", keys, v.reshape(n, u, v_dim, -1))  # (N, k, v)
        position_lambdas = F.conv3d(
            v.reshape(n, u, v_dim, h, w), self.embedding.to(v.dtype), padding=(0, self.r // 2, self.r // 2)
        )  # (N, k, v, H, W)
        y_content = torch.einsum("nhkm,nkv->nhvm", q, content_lambda)  # (N, heads, v, HW)
        y_position = torch.einsum("nhkm,nkvm->nhvm", q, position_lambdas.reshape(n, k_dim, v_dim, -1))
        return (y_content + y_position).reshape(n, c, h, w)
