"""Read the registered module ids from the package's source, without importing torch.

The site build only needs each id and the import path of its class; parsing the ``@register("id", ...)``
decorators keeps torch (seconds to import) out of it. A test checks that this agrees with
``cvattn.list_modules()``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
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
    stamp = tuple((str(p), st.st_mtime_ns, st.st_size) for p, st in ((p, p.stat()) for p in paths))
    return dict(_scan_cached(str(package_dir), stamp))


@functools.lru_cache(maxsize=1024)
def _parsed(path: str, stamp: tuple[int, int]) -> ast.Module:
    """The syntax tree of one source file, parsed once per (mtime, size): both scans read every file.
    Callers only read the trees."""
    return ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)


@functools.lru_cache(maxsize=8)
def _scan_cached(package_dir_str: str, stamp: tuple) -> tuple:
    """Parse the files named in ``stamp``; cached, so they are re-parsed only when one changed (mtime, size)."""
    package_dir = Path(package_dir_str)
    stamp_of = {p: (m, n) for p, m, n in stamp}
    found: dict[str, tuple[str, tuple[tuple[int, ...], ...]]] = {}
    for path in (Path(p) for p, _, _ in stamp):
        dotted = ".".join(path.relative_to(package_dir.parent).with_suffix("").parts)
        tree = _parsed(str(path), stamp_of[str(path)])
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


@dataclass(frozen=True)
class CodeInfo:
    """What a module page shows to get the code: its source file, constructor signature and registry config."""

    source: str  # the file, relative to the repository root ("modules/cvattn/attention/se.py")
    signature: str | None  # "SqueezeExcitation(channels, reduction=16, ...)"; None when no __init__ is found
    config: str  # the registry's default keyword arguments, as written in @register ('channels=64, mode="gaussian"')


REGISTER_META = {"kind", "inputs", "odd_inputs", "checks_input"}  # register()'s own arguments, not the class's


def scan_code(package_dir: Path = PACKAGE_DIR) -> dict[str, CodeInfo]:
    """Map every registered module id to its :class:`CodeInfo`, read from the source (no torch import)."""
    paths = tuple(sorted(package_dir.rglob("*.py")))
    stamp = tuple((str(p), st.st_mtime_ns, st.st_size) for p, st in ((p, p.stat()) for p in paths))
    return dict(_scan_code_cached(str(package_dir), stamp))


def _signature(name: str, init: ast.FunctionDef) -> str:
    """``Name(a, b=1, *, c=None)`` from an ``__init__`` definition: annotations dropped, defaults as written."""
    args = init.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    parts = [a.arg if d is None else f"{a.arg}={ast.unparse(d)}" for a, d in zip(positional, defaults)]
    parts = parts[1:]  # self
    if args.vararg:
        parts.append(f"*{args.vararg.arg}")
    elif args.kwonlyargs:
        parts.append("*")
    for a, d in zip(args.kwonlyargs, args.kw_defaults):
        parts.append(a.arg if d is None else f"{a.arg}={ast.unparse(d)}")
    if args.kwarg:
        parts.append(f"**{args.kwarg.arg}")
    one_line = f"{name}({', '.join(parts)})"
    if len(one_line) <= 88:
        return one_line
    return f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + ")"


@functools.lru_cache(maxsize=8)
def _scan_code_cached(package_dir_str: str, stamp: tuple) -> tuple:
    package_dir = Path(package_dir_str)
    classes: dict[str, ast.ClassDef] = {}  # class name -> definition, across the package (names are unique)
    registered: list[tuple[str, str, ast.ClassDef, ast.Call]] = []
    for path, mtime, size in ((Path(p), m, n) for p, m, n in stamp):
        tree = _parsed(str(path), (mtime, size))
        source = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            classes.setdefault(node.name, node)
            for deco in node.decorator_list:
                if (
                    isinstance(deco, ast.Call)
                    and getattr(deco.func, "id", getattr(deco.func, "attr", None)) == "register"
                    and deco.args
                    and isinstance(deco.args[0], ast.Constant)
                ):
                    registered.append((deco.args[0].value, source, node, deco))

    def init_of(cls: ast.ClassDef, seen: frozenset = frozenset()) -> ast.FunctionDef | None:
        for item in cls.body:
            if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                return item
        for base in cls.bases:  # inherited: the first base defined in the package that has one
            name = getattr(base, "id", getattr(base, "attr", None))
            if name in classes and name not in seen:
                found = init_of(classes[name], seen | {name})
                if found is not None:
                    return found
        return None

    found = {}
    for module_id, source, cls, deco in registered:
        init = init_of(cls)
        config = ", ".join(f"{kw.arg}={ast.unparse(kw.value)}" for kw in deco.keywords if kw.arg not in REGISTER_META)
        found[module_id] = CodeInfo(source, _signature(cls.name, init) if init else None, config)
    return tuple(sorted(found.items()))
