"""MobileViT block: local convolution, a transformer across patches, fold back and fuse.

Paper: "MobileViT: Light-weight, General-purpose, and Mobile-friendly Vision Transformer", Sachin Mehta,
Mohammad Rastegari, ICLR 2022, https://openreview.net/forum?id=vh-0sUt8HlG (arXiv:2110.02178). Official code:
https://github.com/apple/ml-cvnets (``cvnets/modules/mobilevit_block.py``, ``MobileViTBlock``; its transformer
layer is ``cvnets/modules/transformer.py``, ``TransformerEncoder``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import ConvNormAct, LayerType, check_input, get_layer, match_memory_format
from ..tokens import from_tokens, to_tokens


def _resize_to_multiple(x: torch.Tensor, patch_h: int, patch_w: int) -> torch.Tensor:
    """Bilinearly resize ``x`` up to the next multiple of the patch size, as the official ``unfolding`` does."""
    h, w = x.shape[-2:]
    new_h, new_w = -(-h // patch_h) * patch_h, -(-w // patch_w) * patch_w
    if (new_h, new_w) == (h, w):
        return x
    return F.interpolate(x, size=(new_h, new_w), mode="bilinear", align_corners=False)


def _resize_like(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinearly resize ``x`` back to the spatial size of ``like`` (the official ``folding``), if it differs."""
    if x.shape[-2:] == like.shape[-2:]:
        return x
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


# shape-dependent branches: leaves of a torch.fx trace, so the trace holds for every input size
fx.wrap("_resize_to_multiple")
fx.wrap("_resize_like")


class _TransformerLayer(nn.Module):
    """Pre-norm transformer layer: ``x + MHSA(LN(x))``, then ``x + FFN(LN(x))``."""

    def __init__(
        self,
        dim: int,
        ffn_dim: int,
        num_heads: int,
        attn_drop: float,
        proj_drop: float,
        ffn_drop: float,
        act_layer: LayerType,
    ) -> None:
        super().__init__()
        self.num_heads, self.scale, self.attn_drop = num_heads, (dim // num_heads) ** -0.5, attn_drop
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn_dim)
        self.act = get_layer(act_layer)()
        self.fc2 = nn.Linear(ffn_dim, dim)
        self.drop = nn.Dropout(proj_drop)
        self.ffn_drop = nn.Dropout(ffn_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        h = self.num_heads
        q, k, v = (
            self.qkv(self.norm1(x)).reshape(b, n, 3, h, c // h).permute(2, 0, 3, 1, 4)
        )  # 3 x (B, h, N, d)
        drop = self.attn_drop if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, scale=self.scale)  # (B, h, N, d)
        x = x + self.drop(self.proj(y.transpose(1, 2).reshape(b, n, c)))
        return x + self.drop(self.fc2(self.ffn_drop(self.act(self.fc1(self.norm2(x))))))


@register(
    "mobilevit",
    kind="attention",
    inputs=(64, 14, 14),
    channels=64,
    transformer_dim=96,
    ffn_dim=192,
    num_layers=2,
)
class MobileViTBlock(nn.Module):
    """MobileViT block: convolutions model local structure, a transformer across patches the global one.

    A ``k x k`` conv-BN-SiLU and a 1x1 projection to ``d`` channels give ``X_L``. ``X_L`` is cut into
    non-overlapping ``p_h x p_w`` patches (``N = HW / (p_h p_w)`` of them) and unfolded into ``P = p_h p_w``
    sequences ``X_U(p) in R^{N x d}``, one per pixel position ``p`` inside a patch; ``L`` pre-norm transformer
    layers (multi-head softmax attention ``softmax(q k^T / sqrt(d / h)) v`` across the ``N`` patches, and a
    SiLU FFN) and a final LayerNorm give ``X_G(p)``, which is folded back into a map. A 1x1 conv-BN-SiLU
    returns it to ``C`` channels and a ``k x k`` conv-BN-SiLU fuses it with the input:
    ``y = fuse([x, proj(fold(X_G))])``. Every pixel thus sees every other: directly within its patch
    through the convolutions, and across patches through the attention. Memory grows with
    ``(H*W)^2 / (p_h p_w)`` per head (``P`` attention maps of ``N^2`` entries).

    Args:
        channels: input and output channels ``C``.
        transformer_dim: transformer width ``d`` (MobileViT-S/XS: 1.5 ``C``, the default when ``None``).
        ffn_dim: FFN hidden width (MobileViT: ``2 d``, the default when ``None``).
        num_layers: transformer layers ``L`` (MobileViT stages: 2, 4, 3; official class default 2).
        num_heads: attention heads (MobileViT models: 4; head width ``d / h``).
        patch_size: patch ``p`` or ``(p_h, p_w)`` (MobileViT models: 2).
        kernel_size: kernel ``k`` of the local and fusion convolutions (3).
        dilation: dilation of the local ``k x k`` convolution (1; 2 in the segmentation backbone).
        fusion: concatenate the input and fuse with a ``k x k`` conv (True; the official ``no_fusion=False``).
        attn_drop: dropout on the attention weights (official class default 0; MobileViT training uses 0).
        proj_drop: dropout after the attention and after the FFN (official class default 0; 0.1 in
            MobileViT training).
        ffn_drop: dropout between the two FFN layers (0).
        act_layer: activation of the convolutions and the FFN (SiLU, the models' ``swish``).
        norm_layer: normalisation of the convolutions (BatchNorm2d).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> block = cvattn.create("mobilevit", channels=64, transformer_dim=96, ffn_dim=192)
        >>> block(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Deviations:
        The official class takes ``head_dim`` (default 32) and patch 8x8; the MobileViT models pass
        ``transformer_dim / 4`` and 2x2, which are the defaults here (as ``num_heads=4``, ``patch_size=2``).
        Its LayerNorm switches to normalising dim 1 when the number of patches happens to equal ``d``; this
        module always normalises the channels. The temporal (two-input) forward is not provided.

    Reference:
        Mehta, Rastegari. MobileViT: Light-weight, General-purpose, and Mobile-friendly Vision Transformer.
        ICLR 2022.
    """

    def __init__(
        self,
        channels: int,
        transformer_dim: int | None = None,
        ffn_dim: int | None = None,
        num_layers: int = 2,
        num_heads: int = 4,
        patch_size: int | tuple[int, int] = 2,
        kernel_size: int = 3,
        dilation: int = 1,
        fusion: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        ffn_drop: float = 0.0,
        act_layer: LayerType = nn.SiLU,
        norm_layer: LayerType = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        dim = channels * 3 // 2 if transformer_dim is None else transformer_dim
        ffn_dim = 2 * dim if ffn_dim is None else ffn_dim
        patch_h, patch_w = (patch_size, patch_size) if isinstance(patch_size, int) else patch_size
        if min(channels, dim, ffn_dim, num_layers, num_heads, patch_h, patch_w) < 1:
            raise ValueError(
                "channels, transformer_dim, ffn_dim, num_layers, num_heads and patch_size must be >= 1"
            )
        if dim % num_heads:
            raise ValueError(f"transformer_dim ({dim}) must be divisible by num_heads ({num_heads})")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.channels, self.dim, self.patch_h, self.patch_w = channels, dim, patch_h, patch_w
        norm, act = norm_layer, get_layer(act_layer)
        self.conv_kxk = ConvNormAct(
            channels, channels, kernel_size, dilation=dilation, norm_layer=norm, act_layer=act
        )
        self.conv_1x1 = nn.Conv2d(channels, dim, 1, bias=False)
        self.transformer = nn.Sequential(
            *(
                _TransformerLayer(dim, ffn_dim, num_heads, attn_drop, proj_drop, ffn_drop, act)
                for _ in range(num_layers)
            )
        )
        self.norm = nn.LayerNorm(dim)
        self.conv_proj = ConvNormAct(dim, channels, 1, norm_layer=norm, act_layer=act)
        self.fusion = (
            ConvNormAct(2 * channels, channels, kernel_size, norm_layer=norm, act_layer=act)
            if fusion
            else None
        )

    def unfold(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, d, n_h p_h, n_w p_w)`` map to ``(B P, N, d)`` sequences, one per pixel position in a patch."""
        b, d, h, w = x.shape
        ph, pw = self.patch_h, self.patch_w
        x = x.reshape(b, d, h // ph, ph, w // pw, pw).permute(0, 3, 5, 1, 2, 4)  # (B, p_h, p_w, d, n_h, n_w)
        return to_tokens(x.reshape(b * ph * pw, d, h // ph, w // pw))  # (B P, N, d)

    def fold(self, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`unfold`; ``like`` is the unfolded map (for its size)."""
        b, d, h, w = like.shape
        ph, pw = self.patch_h, self.patch_w
        x = from_tokens(t, (h // ph, w // pw)).reshape(b, ph, pw, d, h // ph, w // pw)
        return x.permute(0, 3, 4, 1, 5, 2).reshape(b, d, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.channels)
        x_l = self.conv_1x1(self.conv_kxk(x))  # (B, d, H, W)
        x_r = _resize_to_multiple(x_l, self.patch_h, self.patch_w)  # (B, d, n_h p_h, n_w p_w)
        x_g = self.norm(self.transformer(self.unfold(x_r)))  # (B P, N, d)
        y = self.conv_proj(_resize_like(self.fold(x_g, x_r), x))  # (B, C, H, W)
        if self.fusion is not None:
            y = self.fusion(torch.cat((x, y), dim=1))
        return match_memory_format(y, x)
