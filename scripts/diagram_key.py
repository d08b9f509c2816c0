"""The key a module's diagram is filed under, computed without importing matplotlib or torch.

``scripts.diagram`` draws; a build that has nothing to redraw only needs to know whether every stored diagram was
drawn for its current key, and importing the drawing code (matplotlib) costs that build about half a second.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

DIAGRAM_SOURCE = Path(__file__).with_name("diagram.py")


def diagram_key(module_id: str, scanned: dict[str, str], drawing_source: str, matplotlib_version: str) -> str:
    """sha256 of what the diagram of ``module_id`` depends on: the module's source file (which holds its
    registered default configuration and example input shapes), the shared helpers and the registry, the
    code that draws (``drawing_source``) and matplotlib's version. ``scanned``: ``registry_scan.scan()``."""
    from .registry_scan import PACKAGE_DIR

    dotted = scanned[module_id]  # e.g. cvattn.attention.se.SqueezeExcitation
    source = PACKAGE_DIR.parent.joinpath(*dotted.split(".")[:-1]).with_suffix(".py")
    parts = [module_id, dotted]
    for path in (source, PACKAGE_DIR / "layers.py", PACKAGE_DIR / "_registry.py"):
        parts.append(path.read_text(encoding="utf-8"))
    parts += [drawing_source, matplotlib_version]
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


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
