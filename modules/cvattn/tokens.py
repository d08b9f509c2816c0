"""Token layouts: the one adapter between cvattn's ``(N, C, H, W)`` modules and transformer code.

Every cvattn module takes and returns feature maps ``(N, C, H, W)``, so it drops into a CNN. Vision
transformers keep tokens instead, as ``(N, L, C)`` with ``L = H * W`` (row-major: token ``i * W + j`` is the
pixel at row ``i``, column ``j``; ViT, Swin, PVT) or as ``(N, H, W, C)`` (Swin V2, ConvNeXt, MaxViT in timm).
The functions here convert between the three layouts, and :class:`TokenAdapter` wraps any cvattn module so
that transformer code calls it on its own layout::

    >>> import torch, cvattn
    >>> from cvattn.tokens import TokenAdapter, to_tokens, from_tokens
    >>> x = torch.randn(2, 64, 7, 9)
    >>> t = to_tokens(x)                      # (N, L, C)
    >>> t.shape
    torch.Size([2, 63, 64])
    >>> torch.equal(from_tokens(t, (7, 9)), x)
    True
    >>> block = TokenAdapter(cvattn.create("se", channels=64), layout="nlc")
    >>> block(t, (7, 9)).shape                # tokens in, tokens out
    torch.Size([2, 63, 64])

Modules that compute on tokens internally use the same functions, so the convention is defined once.
"""

from __future__ import annotations

import torch
from torch import fx, nn

LAYOUTS = ("nlc", "nhwc", "nchw")


def to_tokens(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` feature map to ``(N, H*W, C)`` tokens (row-major)."""
    return x.flatten(2).transpose(1, 2)


def from_tokens(t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, H*W, C)`` tokens back to an ``(N, C, H, W)`` feature map; ``size`` is ``(H, W)``."""
    h, w = size
    if not isinstance(t, fx.Proxy) and t.shape[1] != h * w:  # while torch.fx traces, sizes are symbolic
        raise ValueError(f"{t.shape[1]} tokens do not make a {h}x{w} map")
    return t.transpose(1, 2).reshape(t.shape[0], t.shape[2], h, w)


def to_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` to ``(N, H, W, C)`` (a permuted view)."""
    return x.permute(0, 2, 3, 1)


def from_channels_last(x: torch.Tensor) -> torch.Tensor:
    """``(N, H, W, C)`` to ``(N, C, H, W)`` (a permuted view)."""
    return x.permute(0, 3, 1, 2)


class TokenAdapter(nn.Module):
    """Run an ``(N, C, H, W)`` cvattn module on tokens: ``(N, L, C)`` with ``(H, W)``, or ``(N, H, W, C)``.

    Args:
        module: a module that maps ``(N, C, H, W)`` to ``(N, C', H', W')``.
        layout: ``"nlc"`` (tokens; call it with the map size) or ``"nhwc"`` (channels last).

    Shape:
        - ``nlc``: input ``(N, H*W, C)`` and ``size=(H, W)``; output ``(N, H'*W', C')``
        - ``nhwc``: input ``(N, H, W, C)``; output ``(N, H', W', C')``
    """

    def __init__(self, module: nn.Module, layout: str = "nlc") -> None:
        super().__init__()
        if layout not in ("nlc", "nhwc"):
            raise ValueError(f"layout must be 'nlc' or 'nhwc', got {layout!r}")
        self.module, self.layout = module, layout

    def forward(self, x: torch.Tensor, size: tuple[int, int] | None = None) -> torch.Tensor:
        if self.layout == "nhwc":
            if x.dim() != 4:
                raise ValueError(f"expected (N, H, W, C), got shape {tuple(x.shape)}")
            return to_channels_last(self.module(from_channels_last(x)))
        if x.dim() != 3 or size is None:
            raise ValueError(
                f"expected (N, L, C) tokens and size=(H, W), got shape {tuple(x.shape)}, size={size}"
            )
        return to_tokens(self.module(from_tokens(x, size)))
