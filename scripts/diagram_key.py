"""The key a module's diagram is filed under, computed without importing matplotlib or torch.

``scripts.diagram`` draws; a build that has nothing to redraw only needs to know whether every stored diagram was
drawn for its current key, and importing the drawing code (matplotlib) costs that build about half a second.
"""

from __future__ import annotations

import hashlib
import re
from importlib import metadata
from pathlib import Path

DIAGRAM_SOURCE = Path(__file__).with_name("diagram.py")


def diagram_key(module_id: str, scanned: dict[str, str], drawing_source: str, matplotlib_version: str) -> str:
    """sha256 of what the diagram of ``module_id`` depends on: the module's source file (which holds its
    registered default configuration and example input shapes), the package files it imports (a base class
    defined elsewhere, shared functions), the shared helpers and the registry, the
    code that draws (``drawing_source``) and matplotlib's version. ``scanned``: ``registry_scan.scan()``."""
    from .registry_scan import PACKAGE_DIR

    dotted = scanned[module_id]  # e.g. cvattn.attention.se.SqueezeExcitation
    source = PACKAGE_DIR.parent.joinpath(*dotted.split(".")[:-1]).with_suffix(".py")
    parts = [module_id, dotted]
    shared = [PACKAGE_DIR / "layers.py", PACKAGE_DIR / "_registry.py"]
    for path in (source, *(p for p in _package_imports(source) if p not in shared), *shared):
        parts.append(path.read_text(encoding="utf-8"))
    parts += [drawing_source, matplotlib_version]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


_RELATIVE_IMPORT = re.compile(r"^from (\.+)([\w.]*) import", re.M)


def _package_imports(source: Path) -> list[Path]:
    """The package's own modules that ``source`` imports by relative import (``from .danet import ...``): a class
    built on another file's class draws what that file says too."""
    found = []
    for dots, name in _RELATIVE_IMPORT.findall(source.read_text(encoding="utf-8")):
        base = source.parent
        for _ in range(len(dots) - 1):
            base = base.parent
        path = base.joinpath(*name.split(".")).with_suffix(".py") if name else base / "__init__.py"
        if path.is_file() and path not in found:
            found.append(path)
    return sorted(found)


def current_keys(module_ids: list[str], scanned: dict[str, str]) -> dict[str, str]:
    """Every module's key for the drawing code as it is on disk and the installed matplotlib."""
    drawing = DIAGRAM_SOURCE.read_text(encoding="utf-8")
    version = metadata.version("matplotlib")
    return {i: diagram_key(i, scanned, drawing, version) for i in module_ids}


def stored_key(module_id: str, cache_dir: Path) -> str | None:
    """The key ``<cache_dir>/<id>.svg`` was drawn for, or None when the diagram or its key file is missing."""
    svg, key = cache_dir / f"{module_id}.svg", cache_dir / f"{module_id}.svg.sha256"
    if not (svg.exists() and key.exists()):
        return None
    return key.read_text(encoding="utf-8").strip()
