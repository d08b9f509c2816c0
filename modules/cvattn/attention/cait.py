"""Class attention and talking-heads attention of CaiT.

Paper: "Going deeper with Image Transformers", Hugo Touvron, Matthieu Cord, Alexandre Sablayrolles, Gabriel
Synnaeve, Hervé Jégou, ICCV 2021,
https://openaccess.thecvf.com/content/ICCV2021/html/Touvron_Going_Deeper_With_Image_Transformers_ICCV_2021_paper.html
(arXiv 2103.17239). Official code: https://github.com/facebookresearch/deit (``cait_models.py``,
``Class_Attention`` and ``Attention_talking_head``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import check_input, match_memory_format
from ..tokens import from_tokens, to_tokens


def _check_heads(channels: int, num_heads: int) -> None:
    if num_heads < 1 or channels % num_heads:
        raise ValueError(f"channels ({channels}) must be divisible by num_heads ({num_heads})")


@register("cait", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=8)
class CaiTClassAttention(nn.Module):
    """CaiT class attention: a learned class token attends to itself and to every position of the map.

    Only the class token ``x_cls`` makes a query; keys and values come from ``z = [x_cls; x_1 .. x_HW]``:
    ``q = W_q x_cls``, ``k = W_k z``, ``v = W_v z`` split into ``h`` heads of ``d = C / h``,
    ``A = softmax(q k^T / sqrt(d))`` (one row of ``1 + H*W`` weights per head) and ``out = W_o (A v)``, the
    updated class token. The patch tokens are not updated, so the cost is linear. Memory grows with ``H*W``
    per head (one query).

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (CaiT models: 4 to 16; class default 8).
        qkv_bias: bias in the query, key and value projections (CaiT models: True).
        attn_drop: dropout on the attention weights (0).
        proj_drop: dropout after the output projection (0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``, the class token's output at every position

    Examples:
        >>> import torch, cvattn
        >>> ca = cvattn.create("cait", channels=64, num_heads=8)
        >>> y = ca(torch.randn(2, 64, 14, 14))
        >>> y.shape, torch.equal(y[:, :, 0, 0], y[:, :, 5, 3])
        (torch.Size([2, 64, 14, 14]), True)

    Deviations:
        CaiT's class attention returns one vector per image (the class token update); this module returns it
        broadcast to every position so that the output has the input's shape (read the token as
        ``y[:, :, 0, 0]``; added to the map it acts as a global context, as in GCNet). The class token is a
        learned parameter of this module (``cls_token``, truncated-normal initialisation with std 0.02 as
        CaiT's ``cls_token``) instead of an input: in CaiT it is the model's token, fed to the first
        class-attention layer and updated by the later ones. The official class's default is
        ``qkv_bias=False``; every CaiT model passes True, which is our default.

    Reference:
        Touvron, Cord, Sablayrolles, Synnaeve, Jégou. Going deeper with Image Transformers. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        _check_heads(channels, num_heads)
        self.channels, self.num_heads = channels, num_heads
        self.scale = (channels // num_heads) ** -0.5
        self.attn_drop = attn_drop
        self.cls_token = nn.Parameter(nn.init.trunc_normal_(torch.zeros(1, 1, channels), std=0.02))
        self.q = nn.Linear(channels, channels, bias=qkv_bias)
        self.k = nn.Linear(channels, channels, bias=qkv_bias)
        self.v = nn.Linear(channels, channels, bias=qkv_bias)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, d = x.size(0), self.num_heads, self.channels // self.num_heads
        cls = self.cls_token.expand(n, -1, -1)  # (N, 1, C)
        z = torch.cat([cls, to_tokens(x)], dim=1)  # (N, 1 + HW, C)
        # the class token is the same for every sample: project it once (an expanded view of a parameter
        # given to a submodule also trips torch's module tracker, used by FlopCounterMode)
        q = self.q(self.cls_token).expand(n, -1, -1).reshape(n, 1, h, d).transpose(1, 2)  # (N, h, 1, d)
        k = self.k(z).reshape(n, -1, h, d).transpose(1, 2)  # (N, h, 1 + HW, d)
        v = self.v(z).reshape(n, -1, h, d).transpose(1, 2)
        drop = self.attn_drop if self.training else 0.0
        x_cls = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (N, h, 1, d)
        x_cls = self.proj_drop(self.proj(x_cls.transpose(1, 2).reshape(n, 1, self.channels)))  # (N, 1, C)
        return match_memory_format(x_cls.transpose(1, 2).unsqueeze(-1).expand_as(x), x)


@register("cait-talking-heads", kind="attention", inputs=(64, 14, 14), channels=64, num_heads=8)
class TalkingHeadsAttention(nn.Module):
    """CaiT's talking-heads self-attention: global attention whose maps are mixed across heads.

    Queries, keys and values of the ``H*W`` tokens are split into ``h`` heads of ``d = C / h``. The
    logits ``S_i = q_i k_i^T / sqrt(d)`` are mixed across heads by a linear layer before the softmax and
    the attention maps again after it (Shazeer et al., 2020): ``A = W_w softmax(W_l S + b_l) + b_w``
    (mixing over the head axis), ``out = W_o [A_1 v_1, ..., A_h v_h]``. Memory grows with ``(H*W)^2``
    per head.

    Args:
        channels: channels ``C`` (the embedding dimension).
        num_heads: heads ``h`` (CaiT models: 4 to 16; class default 8).
        qkv_bias: bias in the query/key/value projection (CaiT models: True).
        attn_drop: dropout on the mixed attention weights (0).
        proj_drop: dropout after the output projection (0).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> tha = cvattn.create("cait-talking-heads", channels=64, num_heads=8)
        >>> tha(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        Takes and returns a ``(N, C, H, W)`` map instead of ``(N, HW, C)`` tokens. The attention is computed
        explicitly, not by ``scaled_dot_product_attention``: the mixing after the softmax leaves rows that
        are no longer a softmax. The official class's default is ``qkv_bias=False``; every CaiT model passes
        True, which is our default.

    Reference:
        Touvron, Cord, Sablayrolles, Synnaeve, Jégou. Going deeper with Image Transformers. ICCV 2021.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 8,
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ) -> None:
        super().__init__()
        _check_heads(channels, num_heads)
        self.channels, self.num_heads = channels, num_heads
        self.scale = (channels // num_heads) ** -0.5
        self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
        self.proj_l = nn.Linear(num_heads, num_heads)  # mixes the logits across heads
        self.proj_w = nn.Linear(num_heads, num_heads)  # mixes the attention weights across heads
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def _mix_heads(self, attn: torch.Tensor, mix: nn.Linear) -> torch.Tensor:
        """A linear layer over the head axis of ``(N, h, L, L)`` maps."""
        n, h = attn.size(0), self.num_heads
        # one batched product (h, h) x (h, L*L), bias fused: no copy of the large maps
        mixed = torch.baddbmm(mix.bias[None, :, None], mix.weight.expand(n, h, h), attn.reshape(n, h, -1))
        return mixed.view_as(attn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        n, h, d = x.size(0), self.num_heads, self.channels // self.num_heads
        qkv = self.qkv(to_tokens(x)).reshape(n, -1, 3, h, d)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x (N, h, HW, d)
        logits = (q * self.scale) @ k.transpose(-2, -1)  # (N, h, HW, HW)
        attn = self._mix_heads(logits, self.proj_l).softmax(dim=-1)
        attn = self.attn_drop(self._mix_heads(attn, self.proj_w))
        y = (attn @ v).transpose(1, 2).reshape(n, -1, self.channels)  # (N, HW, C)
        y = self.proj_drop(self.proj(y))
        return match_memory_format(from_tokens(y, x.shape[-2:]), x)
