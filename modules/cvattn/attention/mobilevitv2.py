"""MobileViTv2 block with separable self-attention, whose cost is linear in the number of patches.

Paper: "Separable Self-attention for Mobile Vision Transformers", Sachin Mehta, Mohammad Rastegari, TMLR 2023,
https://openreview.net/forum?id=tBl4yBEjKi (arXiv:2206.02680). Official code: https://github.com/apple/ml-cvnets
(``cvnets/modules/mobilevit_block.py``, ``MobileViTBlockv2``; the attention is ``cvnets/layers/linear_attention.py``,
``LinearSelfAttention``, inside ``cvnets/modules/transformer.py``, ``LinearAttnFFN``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, get_layer, match_memory_format


def _resize_to_multiple(x: torch.Tensor, patch_h: int, patch_w: int) -> torch.Tensor:
    """Bilinearly resize ``x`` (corners aligned) up to the next multiple of the patch size, as the official
    ``resize_input_if_needed`` does."""
    h, w = x.shape[-2:]
    new_h, new_w = -(-h // patch_h) * patch_h, -(-w // patch_w) * patch_w
    if (new_h, new_w) == (h, w):
        return x
    return F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=True)


def _resize_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinearly resize ``x`` (corners aligned) back to the spatial size of ``like``, if it differs."""
    if x.shape[-2:] == like.shape[-2:]:
        return x
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=True)


# shape-dependent branches: leaves of a torch.fx trace, so the trace holds for every input size
fx.wrap("_resize_to_multiple")
fx.wrap("_resize_like")


class SeparableSelfAttention(nn.Module):
    """Separable self-attention on unfolded patches ``(B, d, P, N)``: one context vector per pixel position."""

    def __init__(self, dim: int, attn_drop: float = 0.0) -> None:
        super().__init__()
        self.dim = dim
        self.qkv = nn.Conv2d(dim, 1 + 2 * dim, 1)  # W_I (one scalar score), W_K, W_V as 1x1 convs
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Conv2d(dim, dim, 1)  # W_O

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        i, k, v = torch.split(self.qkv(x), [1, self.dim, self.dim], dim=1)  # (B, 1, P, N), 2 x (B, d, P, N)
        c_s = self.attn_drop(i.softmax(dim=-1))  # context scores over the N patches
        c_v = (k * c_s).sum(dim=-1, keepdim=True)  # context vector: (B, d, P, 1)
        return self.proj(F.relu(v) * c_v)


class _LinearAttnLayer(nn.Module):
    """Pre-norm layer: ``x + SSA(GN(x))``, then ``x + FFN(GN(x))`` with 1x1 convs; GN has one group."""

    def __init__(
        self,
        dim: int,
        ffn_dim: int,
        attn_drop: float,
        proj_drop: float,
        ffn_drop: float,
        act_layer: LayerType,
    ) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(1, dim)
        self.attn = SeparableSelfAttention(dim, attn_drop)
        self.norm2 = nn.GroupNorm(1, dim)
        self.fc1 = nn.Conv2d(dim, ffn_dim, 1)
        self.act = get_layer(act_layer)()
        self.fc2 = nn.Conv2d(ffn_dim, dim, 1)
        self.drop = nn.Dropout(proj_drop)
        self.ffn_drop = nn.Dropout(ffn_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x)))
        return x + self.drop(self.fc2(self.ffn_drop(self.act(self.fc1(self.norm2(x))))))


@register("mobilevitv2", kind="attention", inputs=(64, 14, 14), channels=64)
class MobileViTV2Block(nn.Module):
    """MobileViTv2 block: depthwise local convolution, separable self-attention across patches, projection.

    A depthwise ``k x k`` conv-BN-SiLU and a 1x1 projection to ``d`` channels give the map, which is unfolded
    into ``(B, d, P, N)``: ``P = p_h p_w`` pixel positions inside a patch times ``N`` patches. Each of ``L``
    pre-norm layers applies separable self-attention: a 1x1 conv gives one score per token, softmax over the
    ``N`` patches gives context scores ``c_s``; the context vector ``c_v = sum_n c_s(n) x_K(n)`` (``x_K``
    from a 1x1 conv) is broadcast onto ``ReLU(x_V)`` and projected, ``y = W_O (ReLU(x_V) * c_v)``; then a
    1x1-conv SiLU FFN. Normalisation is layer norm over the whole unfolded tensor (GroupNorm with one group).
    After a final norm the patches are folded back and a 1x1 conv-BN returns ``C`` channels (no residual,
    no fusion). Cost is linear in the number of tokens: memory grows with ``H*W*d`` (no ``N x N`` map).

    Args:
        channels: input and output channels ``C``.
        attn_dim: width ``d`` of the attention unit (MobileViTv2: ``C / 2``, the default when ``None``).
        ffn_multiplier: FFN width ``ffn_multiplier * d``, rounded down to a multiple of 16 as in the official
            code (2.0).
        num_layers: attention layers ``L`` (MobileViTv2 stages: 2, 4, 3; official class default 2).
        patch_size: patch ``p`` or ``(p_h, p_w)`` (MobileViTv2 models: 2).
        kernel_size: kernel ``k`` of the depthwise local convolution (3).
        dilation: dilation of the local convolution (1).
        attn_drop: dropout on the context scores (0).
        proj_drop: dropout after the attention and the FFN (0).
        ffn_drop: dropout between the two FFN layers (0).
        act_layer: activation of the local convolution and the FFN (SiLU, the models' ``swish``).
        norm_layer: normalisation of the convolutions (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("mobilevitv2", channels=64)
        >>> block(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        When ``H`` or ``W`` is no multiple of the patch, the official block resizes the input up (bilinear,
        corners aligned) and returns the larger map; this module resizes its output back to ``H x W`` in the
        same way, so it keeps the input's shape. The official class takes ``attn_unit_dim`` and patch 8x8
        without defaults for the models; the defaults here are the MobileViTv2 models' ``C / 2`` and 2x2. The
        temporal (cross-attention) forward is not provided.

    Reference:
        Mehta, Rastegari. Separable Self-attention for Mobile Vision Transformers. TMLR 2023.
    """

    def __init__(
        self,
        channels: int,
        attn_dim: int | None = None,
        ffn_multiplier: float = 2.0,
        num_layers: int = 2,
        patch_size: int | tuple[int, int] = 2,
        kernel_size: int = 3,
        dilation: int = 1,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        ffn_drop: float = 0.0,
        act_layer: LayerType = nn.SiLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        dim = channels // 2 if attn_dim is None else attn_dim
        ffn_dim = int(ffn_multiplier * dim // 16 * 16)
        patch_h, patch_w = (patch_size, patch_size) if isinstance(patch_size, int) else patch_size
        if min(channels, dim, num_layers, patch_h, patch_w) < 1:
            raise ValueError("channels, attn_dim, num_layers and patch_size must be >= 1")
        if ffn_dim < 1:
            raise ValueError(f"ffn_multiplier * attn_dim must be at least 16, got {ffn_multiplier} * {dim}")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.channels, self.dim, self.patch_h, self.patch_w = channels, dim, patch_h, patch_w
        act = get_layer(act_layer)
        self.conv_kxk = ConvNormAct(
            channels,
            channels,
            kernel_size,
            dilation=dilation,
            groups=channels,
            norm_layer=norm_layer,
            act_layer=act,
        )
        self.conv_1x1 = nn.Conv2d(channels, dim, 1, bias=False)
        self.layers = nn.Sequential(
            *(_LinearAttnLayer(dim, ffn_dim, attn_drop, proj_drop, ffn_drop, act) for _ in range(num_layers))
        )
        self.norm = nn.GroupNorm(1, dim)
        self.conv_proj = ConvNormAct(dim, channels, 1, norm_layer=norm_layer, act_layer=None)

    def unfold(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, d, n_h p_h, n_w p_w)`` to ``(B, d, P, N)``: pixel position inside a patch, then patch index."""
        b, d, h, w = x.shape
        ph, pw = self.patch_h, self.patch_w
        x = x.reshape(b, d, h // ph, ph, w // pw, pw).permute(0, 1, 3, 5, 2, 4)  # (B, d, p_h, p_w, n_h, n_w)
        return x.reshape(b, d, ph * pw, (h // ph) * (w // pw))

    def fold(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`unfold`; ``like`` is the unfolded map (for its size)."""
        b, d, h, w = like.shape
        ph, pw = self.patch_h, self.patch_w
        x = x.reshape(b, d, ph, pw, h // ph, w // pw).permute(0, 1, 4, 2, 5, 3)  # (B, d, n_h, p_h, n_w, p_w)
        return x.reshape(b, d, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        x_r = _resize_to_multiple(x, self.patch_h, self.patch_w)  # (B, C, n_h p_h, n_w p_w)
        x_l = self.conv_1x1(self.conv_kxk(x_r))  # (B, d, H', W')
        x_g = self.norm(self.layers(self.unfold(x_l)))  # (B, d, P, N)
        y = self.conv_proj(self.fold(x_g, x_l))  # (B, C, H', W')
        return match_memory_format(_resize_like(y, x), x)
