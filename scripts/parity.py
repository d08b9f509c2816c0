"""Parity with the official code: record fixtures from an official checkout, check cvattn modules against them.

A *recipe* (``scripts/parity_recipes/<module_id>.py``, one per module) says how to run the official class: the
repository and file, the class, the constructor arguments of each configuration beside ours, the explicit map
from the official parameter names to ours, and any patch needed to import the file on CPU. ``record`` imports
the official file from a checkout the maintainer supplies, randomises its weights and normalisation statistics,
renames them to our names, runs it in float64 in eval and train mode and stores, per configuration, the
weights, inputs, outputs, input gradients and the running statistics after the training step. The official
code is never committed; the fixture holds numbers and provenance only.

``check_fixture`` loads a fixture into the cvattn module and returns the largest differences; the tests and
``status`` call it. ``status`` lists every registered module with one of four verdicts (see ``STATUSES``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import pkgutil
import re
import subprocess
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import ROOT

FIXTURE_DIR = ROOT / "tests" / "parity" / "fixtures"
DATA_FILE = ROOT / "docs" / "data" / "parity.json"
FORMAT = 1
TOLERANCE = 1e-6
SEED = 20261202
MODES = ("eval", "train")

STATUSES = {
    "match": {"en": "matches the official code", "zh": "与官方代码一致"},
    "documented": {"en": "matches except where documented", "zh": "除已说明之处外与官方代码一致"},
    "paper": {
        "en": "no official code; checked against the paper's equations",
        "zh": "无官方代码，已按论文公式核对",
    },
    "not-runnable": {"en": "official code not runnable here", "zh": "官方代码无法在此运行"},
}


class ParityError(Exception):
    """A recipe, checkout or fixture problem, with what to do about it."""


# --------------------------------------------------------------------------- recipes


@dataclass(frozen=True)
class Config:
    """One configuration to record: the official constructor arguments beside ours, and the input shapes.

    Args:
        name: short label, unique within the recipe (``default``, ``non-square``, ``reduction-4``).
        official: keyword arguments of the official class (or of the recipe's ``build``).
        ours: keyword arguments of ``cvattn.create(module, ...)``.
        inputs: full input shapes, batch included; one shape per input tensor.
        expect: ``"match"``, or ``"differ"`` for a documented deviation: the test then asserts that the
            outputs really differ, so the documentation cannot go stale.
        tolerance: the largest |diff| accepted (default 1e-6).
        why: why the tolerance is looser or the configuration is expected to differ.
        modes: the modes compared (default eval and train).
    """

    name: str
    official: dict[str, Any]
    ours: dict[str, Any]
    inputs: tuple[tuple[int, ...], ...]
    expect: str = "match"
    tolerance: float = TOLERANCE
    why: str = ""
    modes: tuple[str, ...] = MODES


def _default_build(cls: Any, kwargs: dict[str, Any]) -> Any:
    return cls(**kwargs)


def _default_call(module: Any, inputs: Sequence[Any]) -> Any:
    return module(*inputs)


@dataclass(frozen=True)
class Recipe:
    """How to run the official implementation of one cvattn module.

    Args:
        module: the cvattn registry id.
        repo: the official repository's URL.
        file: path of the file that defines the class, inside the repository.
        cls: the class name in that file.
        configs: the configurations to record.
        rename: ``(pattern, replacement)`` regular expressions applied in order to every official
            state-dict key, each with ``re.sub`` (the replacement may be a function of the match); the
            result must be exactly our state-dict keys.
        drop: regular expressions of official keys that have no counterpart in ours (say why in ``note``).
        convert: optional ``(name, tensor) -> tensor`` for values whose layout differs (e.g. a Linear
            stored as a 1x1 conv); applied after renaming, keyed by our name.
        patches: ``(old, new)`` text substitutions applied to the official file before it is imported
            (e.g. ``.cuda()`` calls); each must apply, and each is recorded in the fixture.
        stubs: source code of small modules to place in ``sys.modules`` while importing, by name, for
            imports the mechanism does not use (recorded in the fixture).
        build: ``(official_class, kwargs) -> module``, when the class is not built by its constructor alone.
        call: ``(official_module, inputs) -> output``, when the official forward is not ``module(*inputs)``
            (other arguments, or outputs of which ours returns a part).
        deviation: the documented deviation (English), when the module departs from the official code.
        deviation_zh: the same in Chinese, for the site's Chinese pages.
        note: anything else a reader of the provenance needs (dropped keys, buffer handling).
        compare_buffers: compare the running statistics after the training step (default True).
    """

    module: str
    repo: str
    file: str
    cls: str
    configs: tuple[Config, ...]
    rename: tuple[tuple[str, str | Callable[[re.Match], str]], ...] = ()
    drop: tuple[str, ...] = ()
    convert: Callable[[str, Any], Any] | None = None
    patches: tuple[tuple[str, str], ...] = ()
    stubs: dict[str, str] = field(default_factory=dict)
    build: Callable[[Any, dict[str, Any]], Any] = _default_build
    call: Callable[[Any, Sequence[Any]], Any] = _default_call
    deviation: str = ""
    deviation_zh: str = ""
    note: str = ""
    compare_buffers: bool = True


RECIPE_PACKAGE = "scripts.parity_recipes"


def recipe_file_name(module_id: str) -> str:
    return module_id.replace("-", "_")


def load_recipe(module_id: str) -> Recipe:
    """The recipe of ``module_id`` from ``scripts/parity_recipes/<module_id with _>.py``."""
    name = f"{RECIPE_PACKAGE}.{recipe_file_name(module_id)}"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ParityError(
            f"no recipe for {module_id!r}: write scripts/parity_recipes/{recipe_file_name(module_id)}.py "
            "(see scripts/parity_recipes/cbam.py)"
        ) from None
    recipe = getattr(mod, "RECIPE", None)
    if not isinstance(recipe, Recipe) or recipe.module != module_id:
        raise ParityError(f"{name}: RECIPE must be a Recipe for module {module_id!r}")
    return recipe


def recipe_ids() -> list[str]:
    """Module ids of every recipe in ``scripts/parity_recipes/`` (files starting with ``_`` are helpers)."""
    import scripts.parity_recipes as pkg

    names = (info.name for info in pkgutil.iter_modules(pkg.__path__) if not info.name.startswith("_"))
    return sorted(importlib.import_module(f"{RECIPE_PACKAGE}.{name}").RECIPE.module for name in names)


# --------------------------------------------------------------------------- importing the official code


def _git_commit(checkout: Path) -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        raise ParityError(
            f"{checkout} is not a git checkout: clone the official repository (the commit is recorded)"
        ) from None
    return out.stdout.strip()


def import_official(recipe: Recipe, checkout: Path) -> types.ModuleType:
    """Import the recipe's file from ``checkout``, patched as the recipe says, with its repository on sys.path."""
    path = checkout / recipe.file
    if not path.is_file():
        raise ParityError(f"{path} does not exist: is {checkout} a checkout of {recipe.repo}?")
    source = path.read_text(encoding="utf-8")
    for old, new in recipe.patches:
        if old not in source:
            raise ParityError(f"{recipe.module}: patch no longer applies to {recipe.file}: {old!r} not found")
        source = source.replace(old, new)
    name = f"_cvattn_official_{recipe_file_name(recipe.module)}"
    saved_path = list(sys.path)
    saved_modules = {k: sys.modules.get(k) for k in recipe.stubs}
    try:
        sys.path[:0] = [str(path.parent), str(checkout)]
        for stub_name, stub_source in recipe.stubs.items():
            stub = types.ModuleType(stub_name)
            exec(compile(stub_source, f"<stub {stub_name}>", "exec"), stub.__dict__)
            sys.modules[stub_name] = stub
        module = types.ModuleType(name)
        module.__file__ = str(path)
        sys.modules[name] = module
        exec(compile(source, str(path), "exec"), module.__dict__)
    finally:
        sys.path[:] = saved_path
        # the repository's own modules leave sys.modules with it: another checkout may have a `utils` too
        for mod_name, mod in list(sys.modules.items()):
            if str(getattr(mod, "__file__", None) or "").startswith(str(checkout) + "/") and mod_name != name:
                del sys.modules[mod_name]
        for stub_name, previous in saved_modules.items():
            if previous is None:
                sys.modules.pop(stub_name, None)
            else:
                sys.modules[stub_name] = previous
    return module


# --------------------------------------------------------------------------- numbers


def randomise(module: Any, generator: Any) -> None:
    """Give every parameter and normalisation statistic a random value, so that no branch hides behind a zero
    or identity initialisation: weights ~ N(0, 1/fan_in), norm scales ~ U(0.5, 1.5), biases and shifts ~
    N(0, 0.2), running means ~ N(0, 0.2), running variances ~ U(0.5, 1.5)."""
    import torch
    from torch import nn

    norms = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm)
    with torch.no_grad():
        for sub in module.modules():
            is_norm = isinstance(sub, norms)
            for pname, p in sub.named_parameters(recurse=False):
                if not p.is_floating_point():
                    continue
                if is_norm and pname == "weight":
                    p.copy_(torch.rand(p.shape, generator=generator, dtype=p.dtype) + 0.5)
                elif p.dim() >= 2:
                    fan_in = p[0].numel()
                    p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) / fan_in**0.5)
                else:
                    p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * 0.2)
            for bname, b in sub.named_buffers(recurse=False):
                if bname == "running_mean":
                    b.copy_(torch.randn(b.shape, generator=generator, dtype=b.dtype) * 0.2)
                elif bname == "running_var":
                    b.copy_(torch.rand(b.shape, generator=generator, dtype=b.dtype) + 0.5)


def _flat(output: Any) -> list[Any]:
    import torch

    if isinstance(output, torch.Tensor):
        return [output]
    if isinstance(output, (tuple, list)):
        return [t for item in output for t in _flat(item)]
    raise ParityError(f"output of type {type(output).__name__} is neither a tensor nor a tuple of tensors")


def _run(module: Any, call: Callable, inputs: list[Any], cotangents: list[Any] | None, mode: str, seed: int):
    """Outputs and input gradients of one forward/backward in ``mode``; cotangents drawn when not given."""
    import torch

    module.train(mode == "train")
    xs = [x.detach().clone().requires_grad_(True) for x in inputs]
    torch.manual_seed(seed)
    outs = _flat(call(module, xs))
    if cotangents is None:
        g = torch.Generator().manual_seed(seed + 1)
        cotangents = [torch.randn(o.shape, generator=g, dtype=o.dtype) for o in outs]
    total = sum((o * c).sum() for o, c in zip(outs, cotangents, strict=True))
    grads = torch.autograd.grad(total, xs, allow_unused=True)
    grads = [torch.zeros_like(x) if gr is None else gr for x, gr in zip(xs, grads, strict=True)]
    return (
        [o.detach().clone() for o in outs],
        [gr.detach().clone() for gr in grads],
        cotangents,
    )  # clones: a view would save its whole storage


def rename_state(recipe: Recipe, state: dict[str, Any]) -> dict[str, Any]:
    drops = [re.compile(p) for p in recipe.drop]
    out = {}
    for key, value in state.items():
        if any(d.search(key) for d in drops):
            continue
        new = key
        for pattern, repl in recipe.rename:
            new = re.sub(pattern, repl, new)
        if new in out:
            raise ParityError(f"{recipe.module}: two official keys map to {new!r}; fix the recipe's rename")
        out[new] = recipe.convert(new, value) if recipe.convert else value
    return out


def _check_names(recipe: Recipe, config: Config, mapped: dict[str, Any], ours: dict[str, Any]) -> None:
    missing = sorted(set(ours) - set(mapped))
    unexpected = sorted(set(mapped) - set(ours))
    wrong = sorted(k for k in set(ours) & set(mapped) if tuple(ours[k].shape) != tuple(mapped[k].shape))
    if missing or unexpected or wrong:
        lines = [f"{recipe.module} [{config.name}]: the renamed official state does not fit ours"]
        if missing:
            lines.append(f"  ours only: {', '.join(missing)}")
        if unexpected:
            lines.append(f"  official only (after renaming): {', '.join(unexpected)}")
        for k in wrong:
            lines.append(f"  shape of {k}: official {tuple(mapped[k].shape)}, ours {tuple(ours[k].shape)}")
        lines.append("  fix `rename`, `drop` or `convert` in the recipe")
        raise ParityError("\n".join(lines))


def _running_buffers(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v.detach().clone() for k, v in state.items() if k.rsplit(".", 1)[-1].startswith("running_")}


def record(
    module_id: str,
    checkout: Path,
    out_dir: Path = FIXTURE_DIR,
    log: Callable = print,
    recipe: Recipe | None = None,
) -> Path:
    """Run the official class of ``module_id`` from ``checkout`` and write ``<out_dir>/<module_id>.pt``.

    ``recipe`` defaults to the one in ``scripts/parity_recipes/``."""
    import torch

    import cvattn

    recipe = load_recipe(module_id) if recipe is None else recipe
    checkout = checkout.resolve()
    commit = _git_commit(checkout)
    official = import_official(recipe, checkout)
    cls = getattr(official, recipe.cls, None)
    if cls is None:
        raise ParityError(f"{recipe.file} defines no {recipe.cls!r}")
    names = [c.name for c in recipe.configs]
    if len(set(names)) != len(names) or not names:
        raise ParityError(f"{module_id}: configuration names must be present and unique, got {names}")
    records = []
    for index, config in enumerate(recipe.configs):
        log(f"{module_id} [{config.name}]: official {recipe.cls}({config.official}) on {config.inputs}")
        seed = SEED + index
        torch.manual_seed(seed)
        theirs = recipe.build(cls, dict(config.official)).double()
        randomise(theirs, torch.Generator().manual_seed(seed))
        mapped = {
            k: v.detach().clone().contiguous() for k, v in rename_state(recipe, theirs.state_dict()).items()
        }
        ours = cvattn.create(module_id, **config.ours).double()
        _check_names(recipe, config, mapped, ours.state_dict())
        g = torch.Generator().manual_seed(seed + 2)
        inputs = [torch.randn(shape, generator=g, dtype=torch.float64) for shape in config.inputs]
        outputs, grads, cotangents = {}, {}, None
        for mode in config.modes:
            outputs[mode], grads[mode], cotangents = _run(theirs, recipe.call, inputs, cotangents, mode, seed)
        after = _running_buffers(rename_state(recipe, theirs.state_dict())) if "train" in config.modes else {}
        records.append(
            {
                "name": config.name,
                "official_kwargs": _jsonable(config.official),
                "ours": config.ours,
                "expect": config.expect,
                "tolerance": config.tolerance,
                "why": config.why,
                "modes": list(config.modes),
                "seed": seed,
                "state": mapped,
                "inputs": inputs,
                "cotangents": cotangents,
                "outputs": outputs,
                "grads": grads,
                "buffers_after_train": after if recipe.compare_buffers else {},
            }
        )
    fixture = {
        "format": FORMAT,
        "module": module_id,
        "provenance": {
            "repo": recipe.repo,
            "commit": commit,
            "file": recipe.file,
            "class": recipe.cls,
            "patches": [list(p) for p in recipe.patches],
            "stubs": sorted(recipe.stubs),
            "rename": [[pattern, _describe(repl)] for pattern, repl in recipe.rename],
            "drop": list(recipe.drop),
            "deviation": recipe.deviation,
            "deviation_zh": recipe.deviation_zh,
            "note": recipe.note,
            "torch": str(torch.__version__),
            "dtype": "float64",
        },
        "configs": records,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{module_id}.pt"
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(fixture, tmp)
    tmp.replace(path)
    log(
        f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} ({path.stat().st_size:,} bytes)"
    )
    return path


def _describe(value: Any) -> str:
    """A rename replacement as text: the string itself, or the name of the function that computes it."""
    return value if isinstance(value, str) else f"<function {getattr(value, '__qualname__', repr(value))}>"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))


def load_fixture(path: Path) -> dict[str, Any]:
    import torch

    fixture = torch.load(path, weights_only=True)
    if fixture.get("format") != FORMAT:
        raise ParityError(
            f"{path}: fixture format {fixture.get('format')!r}, expected {FORMAT}: record it again"
        )
    return fixture


@dataclass(frozen=True)
class ConfigResult:
    name: str
    expect: str
    tolerance: float
    modes: tuple[str, ...]
    diffs: dict[str, float]  # "eval output", "train grad", "running stats" ... -> max |diff|

    @property
    def max_diff(self) -> float:
        return max(self.diffs.values(), default=0.0)

    @property
    def ok(self) -> bool:
        if self.expect == "differ":
            return self.max_diff > self.tolerance
        return self.max_diff <= self.tolerance


def check_config(module_id: str, config: dict[str, Any]) -> ConfigResult:
    """Load one recorded configuration into the cvattn module and measure the largest differences."""
    import torch

    import cvattn

    ours = cvattn.create(module_id, **config["ours"]).double()
    ours.load_state_dict(config["state"], strict=True)
    diffs: dict[str, float] = {}
    for mode in config["modes"]:
        outs, grads, _ = _run(
            ours, _default_call, config["inputs"], config["cotangents"], mode, config["seed"]
        )
        want_outs, want_grads = config["outputs"][mode], config["grads"][mode]
        if len(outs) != len(want_outs):
            diffs[f"{mode} output"] = float("inf")
            continue
        diffs[f"{mode} output"] = max(_diff(a, b) for a, b in zip(outs, want_outs, strict=True))
        diffs[f"{mode} input grad"] = max(_diff(a, b) for a, b in zip(grads, want_grads, strict=True))
    after = config["buffers_after_train"]
    if after:
        state = ours.state_dict()
        diffs["running stats"] = max(_diff(state[k], v) for k, v in after.items())
    del torch
    return ConfigResult(config["name"], config["expect"], config["tolerance"], tuple(config["modes"]), diffs)


def _diff(a: Any, b: Any) -> float:
    if tuple(a.shape) != tuple(b.shape):
        return float("inf")
    return float((a - b).abs().max()) if a.numel() else 0.0


def fixture_ids(fixture_dir: Path = FIXTURE_DIR) -> set[str]:
    """Module ids that have a fixture (file names only: no torch)."""
    return {p.stem for p in fixture_dir.glob("*.pt")} if fixture_dir.is_dir() else set()


# --------------------------------------------------------------------------- status


def module_status(catalog: Any, fixtures: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """The verdict of every module named by the catalogue, without running anything: ``match`` or
    ``documented`` for a module with a fixture (which of the two is read from the fixture when computed by
    :func:`measure`), ``not-runnable`` with the entry's reason, or ``paper`` for an entry without code."""
    fixtures = fixture_ids() if fixtures is None else fixtures
    out = {}
    for paper in catalog.papers:
        for module_id in paper.modules:
            if module_id in fixtures:
                out[module_id] = {"paper": paper.id, "status": "match"}
            elif paper.links.code is None:
                out[module_id] = {"paper": paper.id, "status": "paper"}
            else:
                note = (paper.parity_note or {}).get(module_id)
                out[module_id] = {
                    "paper": paper.id,
                    "status": "not-runnable",
                    "reason": note.model_dump() if note is not None else None,
                    "code": paper.links.code,
                }
    return out


def summary(catalog: Any) -> dict[str, Any]:
    """Every module's verdict with its fixture's provenance, read without running anything."""
    statuses = module_status(catalog)
    have = fixture_ids()
    for module_id, entry in sorted(statuses.items()):
        if module_id not in have:
            continue
        fixture = load_fixture(FIXTURE_DIR / f"{module_id}.pt")
        prov = fixture["provenance"]
        configs = fixture["configs"]
        entry.update(
            status="documented" if prov["deviation"] else "match",
            repo=prov["repo"],
            commit=prov["commit"],
            file=prov["file"],
            cls=prov["class"],
            deviation=prov["deviation"],
            deviation_zh=prov.get("deviation_zh", ""),
            modes=sorted({m for c in configs if c["expect"] == "match" for m in c["modes"]}, key=MODES.index),
            configs=[
                {"name": c["name"], "expect": c["expect"], "tolerance": c["tolerance"]} for c in configs
            ],
        )
    return {"modules": statuses}


MEASURED = ("max_diff", "ok", "torch")
"""Keys that :func:`measure` adds to :func:`summary`: the numbers of one run."""


def without_measurements(data: Any) -> Any:
    """``data`` less the keys of :data:`MEASURED`, at every depth (what must agree with :func:`summary`)."""
    if isinstance(data, dict):
        return {k: without_measurements(v) for k, v in data.items() if k not in MEASURED}
    if isinstance(data, list):
        return [without_measurements(v) for v in data]
    return data


def measure(catalog: Any, log: Callable = lambda _msg: None) -> dict[str, Any]:
    """:func:`summary` with every fixture run: max |diff| per configuration and per module (over the
    configurations expected to match), and whether each configuration is as expected."""
    import torch

    data = summary(catalog)
    for module_id, entry in sorted(data["modules"].items()):
        if "configs" not in entry:
            continue
        fixture = load_fixture(FIXTURE_DIR / f"{module_id}.pt")
        results = [check_config(module_id, c) for c in fixture["configs"]]
        for row, result in zip(entry["configs"], results, strict=True):
            row.update(max_diff=result.max_diff, ok=result.ok)
        entry["max_diff"] = max((r.max_diff for r in results if r.expect == "match"), default=0.0)
        entry["ok"] = all(r.ok for r in results)
        log(f"{module_id}: {entry['status']}, max |diff| {entry['max_diff']:.1e}")
    data["torch"] = str(torch.__version__)
    return data


def status_table(data: dict[str, Any]) -> str:
    rows = ["| module | status | official code | max abs diff | modes |", "| --- | --- | --- | --- | --- |"]
    for module_id, e in sorted(data["modules"].items()):
        where = f"{e['repo'].removeprefix('https://github.com/')}@{e['commit'][:7]}" if "commit" in e else ""
        diff = f"{e['max_diff']:.1e}" + ("" if e.get("ok", True) else " FAIL") if "max_diff" in e else ""
        status = (
            e["status"]
            if e["status"] != "not-runnable" or e.get("reason")
            else "MISSING: no fixture, no note"
        )
        rows.append(f"| {module_id} | {status} | {where} | {diff} | {', '.join(e.get('modes', []))} |")
    counts = {s: sum(e["status"] == s for e in data["modules"].values()) for s in STATUSES}
    rows.append("")
    rows.append(", ".join(f"{n} {STATUSES[s]['en']}" for s, n in counts.items()))
    return "\n".join(rows)


def load_data(path: Path = DATA_FILE) -> dict[str, Any]:
    """docs/data/parity.json (written by ``parity status --write``), or an empty record."""
    if not path.exists():
        return {"modules": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def data_text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- command line


def add_arguments(parser: Any) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    rec = sub.add_parser("record", help="record the fixture of one module from an official checkout")
    rec.add_argument("module", metavar="ID", help="cvattn module id (its recipe: scripts/parity_recipes/)")
    rec.add_argument(
        "--official", type=Path, required=True, metavar="DIR", help="git checkout of the official repository"
    )
    rec.add_argument(
        "--out", type=Path, default=FIXTURE_DIR, help="fixture folder (default: tests/parity/fixtures/)"
    )
    st = sub.add_parser("status", help="run every fixture and print each module's verdict")
    st.add_argument(
        "--write", action="store_true", help="also write docs/data/parity.json (the site's record)"
    )


def command_parity(args: Any) -> int:
    """Record parity fixtures from official code, or print every module's parity status.

    Usage:
        python -m scripts parity record ID --official DIR [--out DIR]
        python -m scripts parity status [--write]

    record: imports the official class named by scripts/parity_recipes/<ID, - as _>.py from DIR (a git checkout; its
    commit is recorded), randomises its weights and normalisation statistics, renames them to cvattn's names
    through the recipe's explicit map, runs every configuration in float64 in eval and train mode, and writes
    tests/parity/fixtures/<ID>.pt (weights, inputs, outputs, input gradients, running statistics after the
    training step, provenance). The official code is not copied.

    status: runs every fixture against the cvattn module and prints the table of verdicts: matches the official
    code, matches except where documented, no official code (checked against the paper's equations), official
    code not runnable here (MISSING where an entry with official code has neither a fixture nor a parity_note).
    --write stores it in docs/data/parity.json for the site; exit 1 when a fixture does not match or a module
    is missing.
    """
    from .catalog import load_or_raise

    try:
        if args.action == "record":
            record(args.module, args.official, args.out)
            return 0
        # a module without fixture or note is listed as missing, not refused: the table shows what to do
        catalog = load_or_raise(args.catalog, check_parity_notes=False)
        data = measure(catalog, log=lambda m: print(m, file=sys.stderr))
    except ParityError as exc:
        print(f"parity: {exc}", file=sys.stderr)
        return 1
    print(status_table(data))
    if args.write:
        from .site import write_if_changed

        changed = write_if_changed(DATA_FILE, data_text(data))
        print(f"{DATA_FILE.relative_to(ROOT)} " + ("written" if changed else "unchanged"))
    failed = [m for m, e in data["modules"].items() if not e.get("ok", True)]
    if failed:
        print(
            f"parity: {len(failed)} module(s) do not match their fixture: {', '.join(failed)}",
            file=sys.stderr,
        )
    missing = sorted(
        m for m, e in data["modules"].items() if e["status"] == "not-runnable" and not e.get("reason")
    )
    if missing:
        print(
            f"parity: {len(missing)} module(s) with official code have neither a fixture nor a parity_note: "
            f"{', '.join(missing)}",
            file=sys.stderr,
        )
    return 1 if failed or missing else 0
