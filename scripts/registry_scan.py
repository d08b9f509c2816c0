"""Read the registered module ids from the package's source, without importing torch.

The site build only needs each id and the import path of its class; parsing the ``@register("id", ...)``
decorators keeps torch (seconds to import) out of it. A test checks that this agrees with
``cvattn.list_modules()``.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from .catalog import ROOT

PACKAGE_DIR = ROOT / "modules" / "cvattn"


def scan(package_dir: Path = PACKAGE_DIR) -> dict[str, str]:
    """Map every registered module id to ``package.module.ClassName``."""
    return {i: path for i, (path, _) in scan_details(package_dir).items()}


def scan_details(package_dir: Path = PACKAGE_DIR) -> dict[str, tuple[str, tuple[tuple[int, ...], ...]]]:
    """Map every registered module id to (``package.module.ClassName``, its example input shapes)."""
    paths = tuple(sorted(package_dir.rglob("*.py")))
    stamp = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths)
    return dict(_scan_cached(str(package_dir), stamp))


@functools.lru_cache(maxsize=8)
def _scan_cached(package_dir_str: str, stamp: tuple) -> tuple:
    """Parse the files named in ``stamp``; cached, so they are re-parsed only when one changed (mtime, size)."""
    package_dir = Path(package_dir_str)
    found: dict[str, tuple[str, tuple[tuple[int, ...], ...]]] = {}
    for path in (Path(p) for p, _, _ in stamp):
        dotted = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and getattr(deco.func, "id", getattr(deco.func, "attr", None)) == "register"
                    and deco.args
                    and isinstance(deco.args[0], ast.Constant)
                    and isinstance(deco.args[0].value, str)
                ):
                    found[deco.args[0].value] = (f"{dotted}.{node.name}", _inputs(deco))
    return tuple(sorted(found.items()))


def _inputs(call: ast.Call) -> tuple[tuple[int, ...], ...]:
    """The ``inputs=`` shapes of a register call, as a tuple of shapes (empty when not a literal)."""
    for kw in call.keywords:
        if kw.arg == "inputs":
            try:
                value = ast.literal_eval(kw.value)
            except ValueError:
                return ()
            return (tuple(value),) if value and isinstance(value[0], int) else tuple(tuple(v) for v in value)
    return ()
