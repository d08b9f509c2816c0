"""Read the registered module ids from the package's source, without importing torch.

The site build only needs each id and the import path of its class; parsing the ``@register("id", ...)``
decorators keeps torch (seconds to import) out of it. A test checks that this agrees with
``cvattn.list_modules()``.

What one file declares (its registrations and classes) is kept in ``.cache/registry-scan-*.json`` (one per
package folder) under the file's content hash and this scanner's own source, so a build parses only the files that changed since the
last one (parsing and walking all of them took about a second). ``CVATTN_SCAN_CACHE=0`` turns the file off.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .catalog import ROOT

PACKAGE_DIR = ROOT / "modules" / "cvattn"


CACHE_DIR = ROOT / ".cache"


def _is_register(deco: ast.expr) -> bool:
    return (
        isinstance(deco, ast.Call)
        and getattr(deco.func, "id", getattr(deco.func, "attr", None)) == "register"
        and bool(deco.args)
        and isinstance(deco.args[0], ast.Constant)
        and isinstance(deco.args[0].value, str)
    )


def _inputs(call: ast.Call) -> list:
    """The ``inputs=`` shapes of a register call, as a list of shapes (empty when not a literal)."""
    for kw in call.keywords:
        if kw.arg == "inputs":
            try:
                value = ast.literal_eval(kw.value)
            except ValueError:
                return []
            return [list(value)] if value and isinstance(value[0], int) else [list(v) for v in value]
    return []


def _outputs(call: ast.Call) -> int:
    """The ``outputs=`` count of a register call (1 when not given)."""
    for kw in call.keywords:
        if kw.arg == "outputs":
            return int(ast.literal_eval(kw.value))
    return 1


def _parameters(init: ast.FunctionDef) -> list[str]:
    """``["a", "b=1", "*", "c=None"]`` from an ``__init__`` definition: annotations dropped, defaults as written."""
    args = init.args
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    parts = [
        a.arg if d is None else f"{a.arg}={ast.unparse(d)}" for a, d in zip(positional, defaults, strict=True)
    ]
    parts = parts[1:]  # self
    if args.vararg:
        parts.append(f"*{args.vararg.arg}")
    elif args.kwonlyargs:
        parts.append("*")
    for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        parts.append(a.arg if d is None else f"{a.arg}={ast.unparse(d)}")
    if args.kwarg:
        parts.append(f"**{args.kwarg.arg}")
    return parts


def _facts(source: str, filename: str) -> dict:
    """What one file declares: its classes (name, base names, ``__init__`` parameters) in the order
    ``ast.walk`` meets them, and its registrations (id, class, example inputs, configuration as written,
    number of returned tensors)."""
    classes, registered = [], []
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not isinstance(node, ast.ClassDef):
            continue
        init = next((i for i in node.body if isinstance(i, ast.FunctionDef) and i.name == "__init__"), None)
        bases = [getattr(b, "id", getattr(b, "attr", None)) for b in node.bases]
        classes.append([node.name, bases, None if init is None else _parameters(init)])
        for deco in node.decorator_list:
            if _is_register(deco):
                config = ", ".join(
                    f"{kw.arg}={ast.unparse(kw.value)}" for kw in deco.keywords if kw.arg not in REGISTER_META
                )
                registered.append([deco.args[0].value, node.name, _inputs(deco), config, _outputs(deco)])
    return {"classes": classes, "registered": registered}


@functools.lru_cache(maxsize=1)
def _scanner_digest() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def _cache_file(package_dir: str) -> Path:
    return CACHE_DIR / f"registry-scan-{hashlib.sha256(package_dir.encode()).hexdigest()[:12]}.json"


def _read_cache(package_dir: str) -> dict:
    if os.environ.get("CVATTN_SCAN_CACHE") == "0":
        return {}
    try:
        data = json.loads(_cache_file(package_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("files", {}) if data.get("scanner") == _scanner_digest() else {}


def _write_cache(package_dir: str, files: dict) -> None:
    if os.environ.get("CVATTN_SCAN_CACHE") == "0":
        return
    try:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=CACHE_DIR, prefix=".registry-scan.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"scanner": _scanner_digest(), "files": files}, out)
        os.replace(
            tmp, _cache_file(package_dir)
        )  # readers see the old file or the new one, never half of one
    except OSError:
        pass  # a read-only checkout scans every time


def _stamp(package_dir: Path) -> tuple:
    paths = sorted(package_dir.rglob("*.py"))
    return tuple((str(p), st.st_mtime_ns, st.st_size) for p, st in ((p, p.stat()) for p in paths))


@functools.lru_cache(maxsize=8)
def _all_facts(package_dir: str, stamp: tuple) -> tuple[tuple[str, dict], ...]:
    """Every file's facts, in path order; from the cache file where a file's content is unchanged."""
    cached = _read_cache(package_dir)
    files, out = {}, []
    for path, _, _ in stamp:
        data = Path(path).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest not in files:
            files[digest] = cached.get(digest) or _facts(data.decode("utf-8"), path)
        out.append((path, files[digest]))
    if files.keys() != cached.keys():  # a file was added, changed or removed: keep only what is there now
        _write_cache(package_dir, files)
    return tuple(out)


def scan(package_dir: Path = PACKAGE_DIR) -> dict[str, str]:
    """Map every registered module id to ``package.module.ClassName``."""
    return {i: d.path for i, d in scan_details(package_dir).items()}


class Registered(NamedTuple):
    """What a ``@register`` decorator says about one module id."""

    path: str  # package.module.ClassName
    inputs: tuple[tuple[int, ...], ...]  # the example input shapes
    outputs: int  # how many tensors forward returns


def scan_details(package_dir: Path = PACKAGE_DIR) -> dict[str, Registered]:
    """Map every registered module id to its :class:`Registered` facts."""
    found = {}
    for path, facts in _all_facts(str(package_dir), _stamp(package_dir)):
        dotted = ".".join(Path(path).relative_to(package_dir.parent).with_suffix("").parts)
        for module_id, cls, inputs, _, outputs in facts["registered"]:
            found[module_id] = Registered(f"{dotted}.{cls}", tuple(tuple(s) for s in inputs), outputs)
    return dict(sorted(found.items()))


@dataclass(frozen=True)
class CodeInfo:
    """What a module page shows to get the code: its source file, constructor signature and registry config."""

    source: str  # the file, relative to the repository root ("modules/cvattn/attention/se.py")
    signature: str | None  # "SqueezeExcitation(channels, reduction=16, ...)"; None when no __init__ is found
    config: str  # the registry's default keyword arguments, as written in @register ('channels=64, mode="gaussian"')


REGISTER_META = {
    "kind",
    "inputs",
    "odd_inputs",
    "checks_input",
    "outputs",
}  # register()'s own arguments, not the class's


def _signature(name: str, parts: list[str]) -> str:
    """``Name(a, b=1, *, c=None)``, on one line when it fits in 88 characters, else one parameter a line."""
    one_line = f"{name}({', '.join(parts)})"
    if len(one_line) <= 88:
        return one_line
    return f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + ")"


def scan_code(package_dir: Path = PACKAGE_DIR) -> dict[str, CodeInfo]:
    """Map every registered module id to its :class:`CodeInfo`, read from the source (no torch import)."""
    all_facts = _all_facts(str(package_dir), _stamp(package_dir))
    classes: dict[
        str, tuple[list, list | None]
    ] = {}  # class name -> (bases, __init__ parameters), package-wide
    registered = []
    for path, facts in all_facts:
        p = Path(path)
        source = p.relative_to(ROOT).as_posix() if p.is_relative_to(ROOT) else p.as_posix()
        for name, bases, params in facts["classes"]:
            classes.setdefault(name, (bases, params))
        registered += [
            (module_id, source, cls, config) for module_id, cls, _, config, _ in facts["registered"]
        ]

    def init_of(name: str, seen: frozenset = frozenset()) -> list | None:
        bases, params = classes[name]
        if params is not None:
            return params
        for base in bases:  # inherited: the first base defined in the package that has one
            if base in classes and base not in seen:
                found = init_of(base, seen | {base})
                if found is not None:
                    return found
        return None

    found = {}
    for module_id, source, cls, config in registered:
        params = init_of(cls)
        found[module_id] = CodeInfo(source, None if params is None else _signature(cls, params), config)
    return dict(sorted(found.items()))
