"""cvattn: attention mechanisms and plug-and-play blocks for computer vision.

Every module is registered under the id of the catalogue entry of its paper::

    >>> import cvattn
    >>> se = cvattn.create("se", channels=64)
    >>> se(cvattn.example_input("se")).shape
    torch.Size([2, 64, 14, 14])
"""

from __future__ import annotations

import importlib
import pkgutil

from ._registry import ModuleSpec, create, example_input, get_spec, list_modules, register
from .layers import make_divisible

__version__ = "0.1.0"

_SUBPACKAGES = ("attention", "blocks", "video")


def _import_mechanisms() -> dict[str, type]:
    """Import every mechanism file (which registers it) and collect the registered classes by name."""
    for sub in _SUBPACKAGES:
        package = importlib.import_module(f"{__name__}.{sub}")
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                importlib.import_module(f"{package.__name__}.{info.name}")
    classes: dict[str, type] = {}
    for id in list_modules():
        cls = get_spec(id).cls
        other = classes.setdefault(cls.__name__, cls)
        if other is not cls:
            raise ImportError(
                f"two registered classes are named {cls.__name__}: {other.__module__} and {cls.__module__}"
            )
    return classes


_CLASSES = _import_mechanisms()
globals().update(_CLASSES)

from .blocks.fuse import fuse_conv_bn  # noqa: E402
from .insert import insert  # noqa: E402  (needs the registry filled)

__all__ = [
    "ModuleSpec",
    "create",
    "example_input",
    "fuse_conv_bn",
    "get_spec",
    "insert",
    "list_modules",
    "make_divisible",
    "register",
    *sorted(_CLASSES),
]
