"""The module registry: maps each catalogue id to its class, kind, default configuration and example input."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

KINDS = ("attention", "block", "fusion", "activation")


@dataclass(frozen=True)
class ModuleSpec:
    """What the registry knows about one module id."""

    id: str
    cls: type[nn.Module]
    kind: str
    defaults: dict[str, Any]
    inputs: tuple[tuple[int, ...], ...]
    odd_inputs: tuple[tuple[int, ...], ...] | None = None
    checks_input: bool = True
    outputs: int = 1


_REGISTRY: dict[str, ModuleSpec] = {}


def register(
    id: str,
    *,
    kind: str,
    inputs: tuple[tuple[int, ...], ...] | tuple[int, ...],
    odd_inputs: tuple[tuple[int, ...], ...] | tuple[int, ...] | None = None,
    checks_input: bool = True,
    outputs: int = 1,
    **defaults: Any,
) -> Callable[[type[nn.Module]], type[nn.Module]]:
    """Class decorator: register a module under ``id`` (the catalogue id, or ``<id>-<variant>``).

    Args:
        id: registry key; raises ``ValueError`` when it is already taken.
        kind: one of ``attention`` (returns a tensor of the input's shape), ``block``, ``fusion``
            (takes several inputs) or ``activation``.
        inputs: per-sample shape of the example input, e.g. ``(64, 14, 14)``; a tuple of shapes for a
            module that takes several inputs.
        odd_inputs: shapes used by the robustness tests for an odd, non-square size; by default the
            example shapes with their last two dimensions replaced by 13 x 17.
        checks_input: whether the module raises ``ValueError`` on a wrong rank or channel count
            (false for element-wise activations, which take any shape).
        outputs: how many tensors ``forward`` returns; more than one come back as a tuple.
        **defaults: the default configuration passed to the class by :func:`create`.
    """
    if kind not in KINDS:
        raise ValueError(f"register({id!r}): kind must be one of {KINDS}, got {kind!r}")

    def as_shapes(value):
        if value is None:
            return None
        return (tuple(value),) if isinstance(value[0], int) else tuple(tuple(s) for s in value)

    def decorator(cls: type[nn.Module]) -> type[nn.Module]:
        if id in _REGISTRY:
            raise ValueError(
                f"module id {id!r} is registered twice ({_REGISTRY[id].cls.__qualname__} and {cls.__qualname__})"
            )
        _REGISTRY[id] = ModuleSpec(
            id=id,
            cls=cls,
            kind=kind,
            defaults=dict(defaults),
            inputs=as_shapes(inputs),
            odd_inputs=as_shapes(odd_inputs),
            checks_input=checks_input,
            outputs=outputs,
        )
        return cls

    return decorator


def get_spec(id: str) -> ModuleSpec:
    """The registry entry of ``id``; ``KeyError`` with the closest ids when it is unknown."""
    try:
        return _REGISTRY[id]
    except KeyError:
        close = difflib.get_close_matches(id, _REGISTRY, n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else "; see cvattn.list_modules()"
        raise KeyError(f"unknown module id {id!r}{hint}") from None


def list_modules(kind: str | None = None) -> list[str]:
    """Sorted ids of the registered modules, optionally only those of one ``kind``."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} or None, got {kind!r}")
    return sorted(i for i, s in _REGISTRY.items() if kind is None or s.kind == kind)


def create(id: str, **kwargs: Any) -> nn.Module:
    """Build module ``id`` with its default configuration, overridden by ``kwargs``."""
    spec = get_spec(id)
    return spec.cls(**{**spec.defaults, **kwargs})


ODD_SIZE = (13, 17)


def example_input(
    id: str, batch: int = 2, *, odd: bool = False, generator: torch.Generator | None = None
) -> torch.Tensor | tuple[torch.Tensor, ...]:
    """A random input that the default configuration of ``id`` accepts.

    Args:
        id: registry id.
        batch: batch size.
        odd: use an odd, non-square spatial size (the module's ``odd_inputs``, by default 13 x 17)
            instead of the example size.
        generator: random generator, for reproducible inputs.

    Returns:
        A tensor, or a tuple of tensors for a module that takes several inputs.
    """
    spec = get_spec(id)
    shapes = spec.inputs
    if odd:
        shapes = spec.odd_inputs or tuple(s[:-2] + ODD_SIZE if len(s) >= 3 else s for s in spec.inputs)
    tensors = tuple(torch.randn((batch, *s), generator=generator) for s in shapes)
    return tensors[0] if len(tensors) == 1 else tensors
