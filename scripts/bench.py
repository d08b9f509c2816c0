"""Speed against the best public implementations of the same mechanisms: the benchmark matrix.

Times forward + backward (training mode, gradients of the parameters and of the input) of a cvattn module and
of a peer implementation of the same mechanism — ``fightingcv-attention`` (External-Attention-pytorch's
package) or ``timm`` — on the same input, in one process with one torch, and reports the ratio
(cvattn time / peer time; below 1 means cvattn is faster).

The matrix: every pair of :data:`PAIRS` at every input size of :data:`SIZES` (channels come from the size)
and every thread count of :data:`THREADS` (``torch.set_num_threads``). Timing is interleaved: each repeat
runs one pass of ours and one of the peer, alternating which goes first, after a warm-up; the medians of the
repeats are reported, so a load change on a shared machine hits both sides alike. Optionally the fastest
modules are also timed compiled (``torch.compile``, inductor) on both sides.

The pairs, how each is aligned and the peer classes that are not counterparts live in ``scripts/bench_pairs.py``.
A size that does not apply to a pair (a peer that only takes some H and W, or a pass that would need more memory
than the cap) is recorded with the reason, never dropped silently; so is a peer that cannot be built.

Peers are for measurement only: each lives in its own environment under ``.bench/`` (``./dev bench`` creates
them), never in the project's dependencies. ``python -m scripts bench`` (``./dev bench``) runs this file once
per environment and merges the results into ``docs/data/bench.json``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

import cvattn

from .bench_pairs import NOT_COUNTERPARTS, PAIRS, Pair, Shape, _cls, text
from .costs import _cpu_name

SIZES: tuple[Shape, ...] = ((8, 64, 56, 56), (8, 256, 28, 28), (32, 512, 14, 14))
"""Input sizes ``(N, C, H, W)`` of the matrix: the channel count of each module comes from the size."""
THREADS: tuple[int, ...] = (1, 2)
REPEATS, WARMUP = 15, 3
MAX_MEMORY_GB = 6.0
"""A cell whose forward pass would save more activations for backward than this (either side) is not run."""
MAX_CELL_SECONDS = 60.0
"""Time budget of one cell (pair, size, threads): slow cells run fewer repeats (at least 3), and say so."""
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "docs" / "data" / "bench.json"
PEERS = {"timm": "timm", "fightingcv": "fightingcv_attention"}
"""Peer name -> its package. Each peer has an environment of the same name under ``.bench/``."""


def _one_pass_ms(module: nn.Module, x: torch.Tensor) -> float:
    """Milliseconds of one forward + backward pass (gradients of the parameters and of the input)."""
    inp = x.detach().requires_grad_(True)
    start = time.perf_counter()
    out = module(inp)
    out = out[0] if isinstance(out, tuple) else out
    out.float().sum().backward()
    elapsed = (time.perf_counter() - start) * 1e3
    module.zero_grad(set_to_none=True)
    return elapsed


def interleaved_ms(
    ours: nn.Module,
    peer: nn.Module,
    x: torch.Tensor,
    repeats: int = REPEATS,
    warmup: int = WARMUP,
    budget_s: float = MAX_CELL_SECONDS,
) -> tuple[list[float], list[float]]:
    """Per-repeat milliseconds of ours and of the peer, timed alternately (ours first in even repeats, the peer
    first in odd ones) after ``warmup`` untimed rounds. When a round is slow, fewer warm-up rounds (at least
    1) and repeats (at least 3) are run so that the cell keeps to about ``budget_s`` seconds."""
    ours.train(), peer.train()
    start, rounds = time.perf_counter(), 0
    while rounds < max(1, warmup):  # at least one round; a slow pair stops after a third of its budget
        _one_pass_ms(ours, x), _one_pass_ms(peer, x)
        rounds += 1
        if time.perf_counter() - start > budget_s / 3:
            break
    round_s = (time.perf_counter() - start) / rounds
    if round_s * repeats > budget_s:
        repeats = max(3, int(budget_s / max(round_s, 1e-9)))
    t_ours, t_peer = [], []
    for i in range(repeats):
        if i % 2 == 0:
            t_ours.append(_one_pass_ms(ours, x))
            t_peer.append(_one_pass_ms(peer, x))
        else:
            t_peer.append(_one_pass_ms(peer, x))
            t_ours.append(_one_pass_ms(ours, x))
    return t_ours, t_peer


def activation_gb(module: nn.Module, x: torch.Tensor) -> float:
    """GB of the tensors that one forward pass saves for backward, plus its output: what a forward +
    backward pass holds at its peak, up to transients (parameters are not counted). Read with autograd's
    saved-tensor hooks, each storage once."""
    params = {p.untyped_storage().data_ptr() for p in module.parameters()}
    seen: set[int] = set()
    total = 0

    def pack(t: torch.Tensor) -> torch.Tensor:
        nonlocal total
        storage = t.untyped_storage()
        if storage.data_ptr() not in seen and storage.data_ptr() not in params:
            seen.add(storage.data_ptr())
            total += storage.nbytes()
        return t

    module.train()
    inp = x.detach().requires_grad_(True)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = _output(module, inp)
    pack(out)
    out.float().sum().backward()
    module.zero_grad(set_to_none=True)
    return total / 1e9


def _size_name(shape: Iterable[int]) -> str:
    return "x".join(map(str, shape))


def _quartiles(values: list[float]) -> list[float]:
    if len(values) < 2:
        return [values[0], values[0]]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return [q[0], q[2]]


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"


def _skip(reason: dict[str, str], shape: Shape, threads: int) -> dict[str, Any]:
    return {"size": list(shape), "threads": threads, "skipped": reason}


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _output(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = module(x)
    return out[0] if isinstance(out, tuple) else out


def measure_pair(
    pair: Pair,
    shape: Shape,
    threads: Iterable[int],
    *,
    repeats: int = REPEATS,
    warmup: int = WARMUP,
    max_memory_gb: float = MAX_MEMORY_GB,
    budget_s: float = MAX_CELL_SECONDS,
    peer_class: type | None = None,
) -> list[dict[str, Any]]:
    """The cells of one pair at one input size, one per thread count: the medians of ours and of the peer,
    their ratio and the interquartile range of the per-repeat ratios; or the reason why it was not run."""
    threads = list(threads)
    reason = pair.applies(shape)
    if reason is not None:
        return [_skip(reason, shape, t) for t in threads]
    n, c, h, w = shape
    torch.manual_seed(0)
    try:
        ours, peer = pair.build(peer_class or _cls(pair.peer_name), c, (h, w))
        two = torch.randn(2, c, h, w)  # two samples: BatchNorm on pooled maps needs more than one value
        with torch.no_grad():
            out_ours, out_peer = _output(ours.eval(), two), _output(peer.eval(), two)
        if out_ours.shape != out_peer.shape:
            raise ValueError(
                f"output shapes differ: ours {tuple(out_ours.shape)}, peer {tuple(out_peer.shape)}"
            )
        # memory: measured on two samples, scaled to the batch
        need = {side: n / 2 * activation_gb(m, two) for side, m in (("ours", ours), ("peer", peer))}
    except Exception as exc:  # a peer that cannot run this configuration is reported, not fatal
        why = _error(exc)
        return [
            _skip(text(f"could not be built or run: {why}", f"无法构建或运行：{why}"), shape, t)
            for t in threads
        ]
    if max(need.values()) > max_memory_gb:
        side = max(need, key=need.get)
        est = f"{need[side]:.1f}"
        cap = f"{max_memory_gb:g}"
        who = {"ours": ("cvattn", "cvattn"), "peer": ("the peer", "对照实现")}[side]
        reason = text(
            f"not run: {who[0]} would keep about {est} GB of activations for backward at this size (measured "
            f"on two samples, scaled to the batch), above the {cap} GB cap of the run",
            f"未运行：在该尺寸下{who[1]}为反向传播保存的激活约 {est} GB（按两个样本测得再按 batch 换算），"
            f"超过本次运行 {cap} GB 的上限",
        )
        return [_skip(reason, shape, t) for t in threads]
    x = torch.randn(shape)
    cells = []
    for t in threads:
        torch.set_num_threads(t)
        try:
            t_ours, t_peer = interleaved_ms(ours, peer, x, repeats, warmup, budget_s)
        except Exception as exc:
            why = _error(exc)
            cells.append(_skip(text(f"failed while timing: {why}", f"计时时出错：{why}"), shape, t))
            continue
        ms_ours, ms_peer = statistics.median(t_ours), statistics.median(t_peer)
        ratios = [a / b for a, b in zip(t_ours, t_peer, strict=True)]
        cells.append(
            {
                "size": list(shape),
                "threads": t,
                "ms_ours": round(ms_ours, 3),
                "ms_peer": round(ms_peer, 3),
                "ratio": round(ms_ours / ms_peer, 3),
                "ratio_iqr": [round(q, 3) for q in _quartiles(ratios)],
                "repeats": len(t_ours),
                "params_ours": _params(ours),
                "params_peer": _params(peer),
                "activation_gb": {side: round(v, 3) for side, v in need.items()},
            }
        )
    return cells


def compiled_ms(
    pair: Pair,
    shape: Shape,
    threads: int,
    *,
    repeats: int = REPEATS,
    warmup: int = WARMUP,
    budget_s: float = MAX_CELL_SECONDS,
) -> dict[str, Any]:
    """Both sides compiled with inductor for static shapes and timed interleaved as in eager mode; the first
    calls (which compile forward and backward) are not timed. Ours goes through the project's one way of
    compiling (``scripts.compile_check.compile_module``: ``fullgraph=True``, a graph break is an error); the
    peer through plain ``torch.compile``, where graph breaks fall back to eager for that part."""
    import torch._dynamo

    from .compile_check import compile_module

    n, c, h, w = shape
    torch.set_num_threads(threads)
    torch._dynamo.reset()  # compile afresh for this thread count
    torch.manual_seed(0)
    ours, peer = pair.build(_cls(pair.peer_name), c, (h, w))
    ours, peer = ours.train(), peer.train()
    c_ours, c_peer = compile_module(ours), torch.compile(peer, dynamic=False)
    x = torch.randn(shape)
    start = time.perf_counter()
    _one_pass_ms(c_ours, x), _one_pass_ms(c_peer, x)
    compile_s = time.perf_counter() - start
    t_ours, t_peer = interleaved_ms(c_ours, c_peer, x, repeats, warmup, budget_s)
    ms_ours, ms_peer = statistics.median(t_ours), statistics.median(t_peer)
    torch._dynamo.reset()
    return {
        "ms_ours": round(ms_ours, 3),
        "ms_peer": round(ms_peer, 3),
        "ratio": round(ms_ours / ms_peer, 3),
        "repeats": len(t_ours),
        "compile_s": round(compile_s, 1),
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
    }


def allocator() -> dict[str, str]:
    """The glibc allocator settings this process started with (``MALLOC_*`` variables; ``./dev bench`` sets
    ``scripts.__main__.BENCH_ALLOCATOR``); empty: glibc's defaults."""
    return {k: v for k, v in sorted(os.environ.items()) if k.startswith("MALLOC_")}


def environment(command: str) -> dict[str, Any]:
    """The versions in this environment (torch and every peer package installed) and the command run in it."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, Any] = {"torch": torch.__version__, "date": _now(), "command": command}
    for peer, package in PEERS.items():
        try:
            out[peer] = version(package.replace("_", "-"))
        except PackageNotFoundError:  # not installed here: pairs that need it run elsewhere or are skipped
            continue
    return out


def _write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def load(path: Path = DEFAULT_OUT) -> dict[str, Any]:
    """The results file, or an empty record (also for a file of the earlier layout without "pairs", one
    table per peer at a single size, which the matrix replaces)."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return data if "pairs" in data else {}


def _cell_key(cell: dict[str, Any]) -> tuple:
    return (tuple(cell["size"]), cell["threads"])


def merge(data: dict[str, Any], pair: Pair, cells: list[dict[str, Any]]) -> dict[str, Any]:
    """``data`` with the cells of ``pair`` replaced where a cell of the same size and thread count was run
    again (the other cells, and every other pair, are kept) and the pair's description brought up to date."""
    pairs = data.setdefault("pairs", {})
    entry = pairs.get(pair.key, {})
    fresh = {_cell_key(c) for c in cells}
    kept = [c for c in entry.get("cells", []) if _cell_key(c) not in fresh]
    entry.update(
        id=pair.id,
        peer=pair.peer,
        peer_class=pair.peer_class,
        peer_path=pair.peer_name,
        alignment=pair.alignment,
        cells=sorted(kept + cells, key=lambda c: (-c["size"][2], c["size"][1], c["threads"])),
    )
    pairs[pair.key] = entry
    return data


def describe(data: dict[str, Any], env: str, command: str, run_id: str) -> dict[str, Any]:
    """Provenance of run ``run_id`` in environment ``env`` (the runs that no cell comes from any more are
    dropped), the audit list, and no pair that is not defined any more."""
    data["machine"] = machine()
    data.setdefault("environments", {})[env] = environment(command)
    runs = data.setdefault("runs", {})
    runs[run_id] = {
        "env": env,
        "command": command,
        "torch": torch.__version__,
        "date": _now(),
        "allocator": allocator(),
    }
    data["timing"] = {
        "what": "forward + backward, training mode, gradients of the parameters and of the input",
        "interleaved": True,
        "statistic": "median of the repeats; ratio = ms ours / ms peer",
    }
    data["not_counterparts"] = NOT_COUNTERPARTS
    defined = {p.key for p in PAIRS}
    data["pairs"] = {k: v for k, v in data.get("pairs", {}).items() if k in defined}
    used = {c.get("run") for p in data["pairs"].values() for c in p["cells"]} | {run_id}
    data["runs"] = {k: v for k, v in runs.items() if k in used}
    return data


def select(env: str, ids: list[str] | None = None) -> list[Pair]:
    """The pairs that run in environment ``env`` (optionally only those of the module ``ids``)."""
    registered = set(cvattn.list_modules())
    unknown = sorted(set(ids or []) - {p.id for p in PAIRS})
    if unknown:
        raise ValueError(
            f"no pair for module id(s) {', '.join(unknown)}; pairs exist for: "
            f"{', '.join(sorted({p.id for p in PAIRS}))}"
        )
    return [p for p in PAIRS if p.environment == env and p.id in registered and (not ids or p.id in ids)]


def run(
    env: str,
    out: Path,
    *,
    ids: list[str] | None = None,
    sizes: Iterable[Shape] = SIZES,
    threads: Iterable[int] = THREADS,
    repeats: int = REPEATS,
    warmup: int = WARMUP,
    max_memory_gb: float = MAX_MEMORY_GB,
    budget_s: float = MAX_CELL_SECONDS,
    compile_fastest: int = 0,
    command: str = "",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Measure the matrix of the pairs of environment ``env`` and merge it into ``out`` after every pair
    (atomically), so that an interrupted run keeps what it measured.

    ``compile_fastest``: afterwards, the that many pairs whose cvattn module was fastest (median over the
    cells of this run) are also timed compiled on both sides, in every cell of the run."""
    sizes, threads = [tuple(s) for s in sizes], list(threads)
    pairs = select(env, ids)
    if not pairs:
        log(f"no pair runs in the {env} environment" + (f" for {' '.join(ids)}" if ids else ""))
        return load(out)
    run_id = f"{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='microseconds')} {env}"
    data = describe(load(out), env, command, run_id)
    _write_atomic(out, data)
    start = time.perf_counter()
    for i, pair in enumerate(pairs, 1):
        try:
            peer_class = _cls(pair.peer_name)
        except Exception as exc:
            peer_class = None
            import_error = _error(exc)
        cells = []
        for shape in sizes:
            if peer_class is None:
                why = text(
                    f"the peer cannot be imported: {import_error}", f"无法导入对照实现：{import_error}"
                )
                got = [_skip(why, shape, t) for t in threads]
            else:
                got = measure_pair(
                    pair,
                    shape,
                    threads,
                    repeats=repeats,
                    warmup=warmup,
                    max_memory_gb=max_memory_gb,
                    budget_s=budget_s,
                    peer_class=peer_class,
                )
            for cell in got:
                cell["date"] = _now()
            cells += got
            elapsed = time.perf_counter() - start
            log(
                f"[{i}/{len(pairs)} {elapsed / 60:5.1f} min] {pair.key:52s} {_size_name(shape):12s} "
                + "  ".join(
                    f"t{c['threads']}: "
                    + (
                        f"{c['ms_ours']:8.2f} / {c['ms_peer']:8.2f} ms = {c['ratio']:.2f}"
                        if "ratio" in c
                        else "skipped (" + c["skipped"]["en"][:70] + ")"
                    )
                    for c in got
                )
            )
        for cell in cells:
            cell["env"], cell["run"] = env, run_id
        data = merge(load(out), pair, cells)
        data = describe(data, env, command, run_id)
        _write_atomic(out, data)
    if compile_fastest > 0:
        _compile_fastest(pairs, sizes, threads, out, compile_fastest, repeats, warmup, budget_s, log)
    return load(out)


def _compile_fastest(
    pairs: list[Pair], sizes, threads, out: Path, k: int, repeats: int, warmup: int, budget_s: float, log
) -> None:
    data = load(out)
    wanted = {(s, t) for s in sizes for t in threads}

    def eager(pair: Pair) -> list[dict]:
        cells = data["pairs"].get(pair.key, {}).get("cells", [])
        return [c for c in cells if "ratio" in c and (tuple(c["size"]), c["threads"]) in wanted]

    timed = [p for p in pairs if eager(p)]
    fastest = sorted(timed, key=lambda p: statistics.median(c["ms_ours"] for c in eager(p)))[:k]
    for pair in fastest:
        cells = []
        for cell in eager(pair):
            cell = dict(cell)
            try:
                cell["compiled"] = compiled_ms(
                    pair,
                    tuple(cell["size"]),
                    cell["threads"],
                    repeats=repeats,
                    warmup=warmup,
                    budget_s=budget_s,
                )
                got = cell["compiled"]
                log(
                    f"[compiled] {pair.key:52s} {_size_name(cell['size']):12s} t{cell['threads']}: "
                    f"{got['ms_ours']:8.2f} / {got['ms_peer']:8.2f} ms = {got['ratio']:.2f} "
                    f"(compiling took {got['compile_s']:.0f} s)"
                )
            except Exception as exc:  # a module that does not compile is reported, not fatal
                why = _error(exc)
                cell["compiled"] = {
                    "skipped": text(f"torch.compile failed: {why}", f"torch.compile 失败：{why}")
                }
                log(
                    f"[compiled] {pair.key:52s} {_size_name(cell['size']):12s} t{cell['threads']}: failed ({why})"
                )
            cells.append(cell)
        _write_atomic(out, merge(load(out), pair, cells))


def parse_size(value: str) -> Shape:
    """``8x64x56x56`` -> ``(8, 64, 56, 56)``."""
    try:
        shape = tuple(int(v) for v in value.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(f"a size is N x C x H x W, e.g. 8x64x56x56; got {value!r}")
    return shape  # type: ignore[return-value]


def add_arguments(parser) -> None:
    """The options shared by ``python -m scripts bench`` and this file's own entry."""
    parser.add_argument("--only", nargs="*", default=None, metavar="ID", help="only these module ids")
    parser.add_argument(
        "--sizes",
        nargs="*",
        type=parse_size,
        default=list(SIZES),
        metavar="NxCxHxW",
        help="input sizes (default: " + " ".join(map(_size_name, SIZES)) + ")",
    )
    parser.add_argument(
        "--threads",
        nargs="*",
        type=int,
        default=list(THREADS),
        metavar="N",
        help="torch thread counts (default: " + " ".join(map(str, THREADS)) + ")",
    )
    parser.add_argument(
        "--repeats", type=int, default=REPEATS, help=f"timed repeats per cell (default {REPEATS})"
    )
    parser.add_argument(
        "--warmup", type=int, default=WARMUP, help=f"untimed rounds per cell (default {WARMUP})"
    )
    parser.add_argument(
        "--max-memory-gb",
        type=float,
        default=MAX_MEMORY_GB,
        help=f"skip cells needing more tensor memory (default {MAX_MEMORY_GB:g})",
    )
    parser.add_argument(
        "--max-cell-seconds",
        type=float,
        default=MAX_CELL_SECONDS,
        help=f"time budget of a cell; slow cells run fewer repeats (default {MAX_CELL_SECONDS:g})",
    )
    parser.add_argument(
        "--compile-fastest",
        type=int,
        default=0,
        metavar="K",
        help="also time the K fastest modules of each peer compiled (default 0)",
    )


def main(argv: list[str] | None = None) -> int:
    """Run inside a peer environment: ``python -m scripts.bench --env timm [options]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m scripts.bench")
    parser.add_argument("--env", choices=sorted(PEERS), required=True, help="the environment this runs in")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--command", default="", help="the command line to record (default: this one)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        run(
            args.env,
            args.out,
            ids=args.only,
            sizes=args.sizes,
            threads=args.threads,
            repeats=args.repeats,
            warmup=args.warmup,
            max_memory_gb=args.max_memory_gb,
            budget_s=args.max_cell_seconds,
            compile_fastest=args.compile_fastest,
            command=args.command
            or "python -m scripts.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        )
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
