"""Value conversions shared by parity recipes."""

from __future__ import annotations

from typing import Any


def as_conv1x1(name: str, value: Any) -> Any:
    """An ``nn.Linear`` weight ``(out, in)`` stored by us as a 1x1 conv ``(out, in, 1, 1)``; others unchanged."""
    if name.endswith(".weight") and value.dim() == 2:
        return value[:, :, None, None]
    return value
