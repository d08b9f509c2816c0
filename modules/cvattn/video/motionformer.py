"""Trajectory attention of Motionformer.

Paper: "Keeping Your Eye on the Ball: Trajectory Attention in Video Transformers", Mandela Patrick, Dylan
Campbell, Yuki M. Asano, Ishan Misra, Florian Metze, Christoph Feichtenhofer, Andrea Vedaldi, João F. Henriques,
NeurIPS 2021, https://arxiv.org/abs/2106.05392. Official code: https://github.com/facebookresearch/Motionformer
(``slowfast/models/vit_helper.py``, ``TrajectoryAttention`` with ``approx="none"``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..clips import check_clip, from_clip_tokens, to_clip_tokens


@register("motionformer", kind="attention", inputs=(64, 4, 7, 7), channels=64, num_heads=4)
class TrajectoryAttention(nn.Module):
    """Motionformer's trajectory attention: attention along the implicit motion path of every patch.

    Every token ``s`` (frame ``t_s``) first attends, separately in each frame ``t'``, to the ``H*W`` tokens of
    that frame: ``y_{s t'} = sum_n softmax_n(q_s . k_{t' n} / sqrt(d)) v_{t' n}``, a soft estimate of where the
    patch went in frame ``t'`` (its trajectory). It then pools along its trajectory with a 1-D attention over
    time whose query is its own frame's trajectory point: ``q~_s = W_q y_{s t_s}``, ``k~_{s t'} = W_k y_{s t'}``,
    ``v~_{s t'} = W_v y_{s t'}``, ``out_s = sum_t' softmax_t'(q~_s . k~_{s t'} / sqrt(d)) v~_{s t'}``, per head,
    followed by the output projection. Memory grows with ``(T*H*W)^2`` (each token against every token, with a
    softmax per frame), like joint space-time attention.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (Motionformer, ViT-Base: 12, 64 channels per head).
        qkv_bias: bias in the query/key/value projections of both steps (official model: True).
        use_original_code: as the official flag of that name: use the trajectories ``y`` themselves as the
            temporal values instead of ``W_v y``. The official code keeps this typo of its first version (and
            its released models were trained with it) but does not recommend it; the paper's equations have
            ``W_v`` (default False).
        attn_drop: dropout on the spatial attention weights (official: 0).
        proj_drop: dropout after the output projection (official: 0).

    Shape:
        - Input: ``(N, C, T, H, W)``
        - Output: ``(N, C, T, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> attn = cvattn.create("motionformer", channels=64, num_heads=4)
        >>> attn(torch.randn(2, 64, 4, 7, 7)).shape
        torch.Size([2, 64, 4, 7, 7])

    Deviations:
        No class token (in the official code the patches do not attend to it, so the patches' output is the
        same; the class token's own joint attention is left out). ``use_original_code`` defaults to False
        (the paper's equations, as the official comment recommends) where the official default is True.
        Only the exact attention (``approx="none"``): the Orthoformer, Nyström and Performer approximations are
        not implemented. Only the attention of a Motionformer block (no LayerNorm, MLP or residual).

    Reference:
        Patrick, Campbell, Asano, Misra, Metze, Feichtenhofer, Vedaldi, Henriques. Keeping Your Eye on the Ball:
        Trajectory Attention in Video Transformers. NeurIPS 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 12,
        qkv_bias: bool = True,
        use_original_code: bool = False,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        if num_heads < 1 or channels % num_heads:
            raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")
        self.channels, self.num_heads = channels, num_heads
        self.scale = (channels // num_heads) ** -0.5
        self.use_original_code = use_original_code
        self.attn_drop = attn_drop
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj_q = nn.Linear(channels, channels, bias=qkv_bias)
        self.proj_kv = nn.Linear(channels, 2 * channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_clip(x, self.channels, type(self).__name__)
        n, c, t, h, w = x.size(0), self.channels, x.size(2), x.size(3), x.size(4)
        heads, d, p = self.num_heads, self.channels // self.num_heads, h * w
        s = t * p
        tokens = to_clip_tokens(x)  # (N, S, C), S = T*H*W time-major
        qkv = self.qkv(tokens).reshape(n, s, 3, heads, d).permute(2, 0, 3, 1, 4)  # 3 x (N, h, S, d)
        q, k, v = qkv.unbind(0)
        # spatial step: every query against each frame separately (one softmax per frame); SDPA on 4-D tensors
        # (its fused CPU kernel takes no more), the frames in the place of heads
        q = q.reshape(n * heads, 1, s, d).expand(n * heads, t, s, d)
        k = k.reshape(n * heads, t, p, d)
        v = v.reshape(n * heads, t, p, d)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N*h, T', S, d)
        y = y.reshape(n, heads, t, s, d).permute(0, 3, 2, 1, 4).reshape(n, s, t, c)  # (N, S, T', C): y_{s t'}
        # the trajectory point in the query's own frame: y_{s t_s}
        y_own = torch.diagonal(y.reshape(n, t, p, t, c), dim1=1, dim2=3)  # (N, P, C, T)
        y_own = y_own.permute(0, 3, 1, 2).reshape(n, s, c)
        # temporal step: 1-D attention along each trajectory, the S trajectories in the place of heads
        q2 = self.proj_q(y_own).reshape(n, s, heads, d).transpose(1, 2).reshape(n * heads, s, 1, d)
        k2, v2 = self.proj_kv(y).reshape(n, s, t, 2, heads, d).permute(3, 0, 4, 1, 2, 5).unbind(0)
        if self.use_original_code:
            v2 = y.reshape(n, s, t, heads, d).permute(0, 3, 1, 2, 4)  # (N, h, S, T', d)
        k2, v2 = k2.reshape(n * heads, s, t, d), v2.reshape(n * heads, s, t, d)
        z = F.scaled_dot_product_attention(q2, k2, v2, scale=self.scale)  # (N*h, S, 1, d)
        z = self.proj_drop(self.proj(z.reshape(n, heads, s, d).transpose(1, 2).reshape(n, s, c)))
        return from_clip_tokens(z, (t, h, w)).contiguous()
