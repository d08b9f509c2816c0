"""Value conversions shared by parity recipes."""

from __future__ import annotations

from typing import Any


def as_conv1x1(name: str, value: Any) -> Any:
    """An ``nn.Linear`` weight ``(out, in)`` stored by us as a 1x1 conv ``(out, in, 1, 1)``; others unchanged."""
    if name.endswith(".weight") and value.dim() == 2:
        return value[:, :, None, None]
    return value


TIMM_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def to_2tuple(x):
    return (x, x)
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""
"""Stub source of ``timm.models.layers`` for official files that import it for the rest of their network: the
attention classes compared here use none of it (the weights are randomised by the recorder)."""
