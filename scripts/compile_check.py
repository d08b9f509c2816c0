"""Does every registered module run under ``torch.compile(fullgraph=True)``? The graph-break check.

Two checks, both against the module's own eager run on the same weights and input:

- :func:`dynamo_check` (fast, dynamo only): the module is captured by dynamo with ``fullgraph=True``
  and run by the eager backend (the captured FX graph is executed as is; no inductor, no C compiler).
  It runs the forward in eval mode (under ``torch.no_grad``) and in train mode, and a backward in
  train mode. ``fullgraph=True`` turns any graph break into an error, whose reason (dynamo's own
  message and the user line it points at) is reported. Outputs, the input's gradient, every
  parameter's gradient and the buffers after the training step (BatchNorm's running statistics) must
  match the eager run.
- :func:`inductor_check` (slow, end to end): the same comparison with the default inductor backend,
  which generates and compiles C++ (needs a C++ compiler; see :func:`has_cxx_compiler`).

:func:`compile_module` is the one way the project compiles a module end to end (the bench uses it).
``python -m scripts compile-check [IDS...]`` prints a table and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import copy
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

MODES = ("eval", "train")
DYNAMO_TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}
"""The eager backend runs the very ops of the eager forward; only op fusion-free reordering can differ."""
INDUCTOR_TOLERANCE = {"rtol": 1e-3, "atol": 1e-4}
"""Inductor fuses and reorders float32 reductions, so its results differ in the last bits."""


@dataclass
class CheckResult:
    """What one check found for one module."""

    id: str
    ok: bool = True
    stage: str = ""
    """Where it failed: ``build``, ``eval``, ``train``, ``backward`` or ``compare``; empty when it passed."""
    error: str = ""
    """Dynamo's reason for a graph break, or what differed from the eager run."""
    graphs: int = 0
    """Graphs dynamo captured (one per mode with ``fullgraph=True``)."""
    ops: int = 0
    """Operations in the captured graphs (0 would mean dynamo captured nothing)."""
    max_diff: float = 0.0
    """Largest absolute difference from the eager run over outputs and gradients."""
    seconds: float = 0.0
    details: list[str] = field(default_factory=list)


class _CountingEager:
    """The ``eager`` backend (run the captured graph as it is), counting graphs and their operations."""

    def __init__(self) -> None:
        self.graphs = 0
        self.ops = 0

    def __call__(self, gm: torch.fx.GraphModule, example_inputs: Any) -> Any:
        self.graphs += 1
        self.ops += sum(n.op in ("call_function", "call_method", "call_module") for n in gm.graph.nodes)
        return gm.forward


def has_cxx_compiler() -> bool:
    """Whether inductor's CPU backend can find a C++ compiler (it generates and compiles C++)."""
    return any(shutil.which(c) for c in ("g++", "c++", "clang++"))


def compile_module(module: nn.Module, *, dynamic: bool = False, mode: str | None = None) -> nn.Module:
    """``module`` compiled end to end: dynamo with ``fullgraph=True`` (a graph break is an error, never
    a silent fallback to eager for part of the forward) and the default inductor backend.

    Args:
        module: the module to compile; the returned wrapper shares its parameters.
        dynamic: compile for varying input sizes (default: static shapes, one compilation per shape).
        mode: inductor's mode (``None``, ``"reduce-overhead"``, ``"max-autotune"``, ...).
    """
    return torch.compile(module, fullgraph=True, dynamic=dynamic, mode=mode)


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return x if isinstance(x, tuple) else (x,)


def _tensors(out: Any) -> list[torch.Tensor]:
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _tensors(o)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _tensors(o)]
    return []


def _reason(exc: BaseException) -> str:
    """Dynamo's explanation of a failure, without its developer debug context: the first lines of the
    message and the last user frame it points at."""
    text = str(exc).strip()
    lines = [ln.rstrip() for ln in text.splitlines()]
    head: list[str] = []
    for ln in lines:
        if ln.strip().startswith(("Developer debug context", "For more details about this graph break")):
            break
        if ln.strip().startswith("from user code:"):
            break
        if ln.strip():
            head.append(ln.strip())
    where = ""
    if "from user code:" in text:
        frames = [ln.strip() for ln in text.split("from user code:", 1)[1].splitlines() if ln.strip()]
        files = [i for i, ln in enumerate(frames) if ln.startswith('File "')]
        if files:
            i = files[-1]
            where = " @ " + frames[i].replace('File "', "").replace('", line ', ":").split(",")[0]
            if i + 1 < len(frames) and not frames[i + 1].startswith('File "'):
                where += f": {frames[i + 1]}"
    kind = type(exc).__name__
    return f"{kind}: {' | '.join(head[:6])}{where}"


def _diff(
    a: Sequence[torch.Tensor], b: Sequence[torch.Tensor], what: str, tol: dict[str, float]
) -> tuple[float, list[str]]:
    problems: list[str] = []
    worst = 0.0
    if len(a) != len(b):
        return float("inf"), [f"{what}: {len(a)} tensors eagerly, {len(b)} compiled"]
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        name = f"{what}[{i}]" if len(a) > 1 else what
        if x is None or y is None:
            if (x is None) != (y is None):
                problems.append(f"{name}: present in one run only")
            continue
        if x.shape != y.shape or x.dtype != y.dtype:
            problems.append(
                f"{name}: {tuple(x.shape)} {x.dtype} eagerly, {tuple(y.shape)} {y.dtype} compiled"
            )
            continue
        if not x.is_floating_point() and not x.is_complex():
            if not torch.equal(x, y):
                problems.append(f"{name}: integer values differ")
            continue
        d = (x - y).abs().max().item() if x.numel() else 0.0
        worst = max(worst, d)
        if not torch.allclose(x, y, equal_nan=True, **tol):
            problems.append(f"{name}: max |diff| {d:.3g}")
    return worst, problems


def _run_pair(
    module_id: str,
    compile_fn: Any,
    *,
    batch: int,
    tol: dict[str, float],
    modes: Sequence[str] = MODES,
    backward: bool = True,
    config: dict[str, Any] | None = None,
) -> CheckResult:
    import cvattn

    result = CheckResult(module_id)
    start = time.perf_counter()
    torch._dynamo.reset()
    try:
        torch.manual_seed(0)
        eager = cvattn.create(module_id, **(config or {}))
        twin = copy.deepcopy(eager)
        compiled = compile_fn(twin)
        inputs = _as_tuple(
            cvattn.example_input(module_id, batch=batch, generator=torch.Generator().manual_seed(0))
        )
    except Exception as exc:  # a module that cannot even be built is reported, not raised
        result.ok, result.stage, result.error = False, "build", f"{type(exc).__name__}: {exc}"
        result.seconds = time.perf_counter() - start
        return result

    def forward(model: Any, train: bool) -> tuple[list[torch.Tensor], tuple[torch.Tensor, ...]]:
        xs = tuple(t.clone().requires_grad_(train and t.is_floating_point()) for t in inputs)
        torch.manual_seed(1)  # the same random draws (dropout, sampling) in both runs
        with torch.set_grad_enabled(train):
            out = model(*xs)
        return _tensors(out), xs

    for mode in modes:
        train = mode == "train"
        eager.train(train)
        twin.train(train)
        stage = mode
        try:
            want, x_want = forward(eager, train)
            if train and backward:
                loss = sum(t.float().square().mean() for t in want if t.requires_grad)
                eager.zero_grad(set_to_none=True)
                if isinstance(loss, torch.Tensor):
                    loss.backward()
            got, x_got = forward(compiled, train)
            if train and backward:
                stage = "backward"
                loss = sum(t.float().square().mean() for t in got if t.requires_grad)
                twin.zero_grad(set_to_none=True)
                if isinstance(loss, torch.Tensor):
                    loss.backward()
        except Exception as exc:
            result.ok, result.stage, result.error = False, stage, _reason(exc)
            break
        checks = [(f"{mode} output", [t.detach() for t in want], [t.detach() for t in got])]
        if train and backward:
            checks.append(("input grad", [x.grad for x in x_want], [x.grad for x in x_got]))
            checks.append(
                ("param grad", [p.grad for p in eager.parameters()], [p.grad for p in twin.parameters()])
            )
            checks.append(("buffers", list(eager.buffers()), list(twin.buffers())))
        for what, a, b in checks:
            d, problems = _diff(a, b, what, tol)
            result.max_diff = max(result.max_diff, d)
            result.details += problems
    if result.ok and result.details:
        result.ok, result.stage, result.error = False, "compare", "; ".join(result.details[:4])
    result.seconds = time.perf_counter() - start
    torch._dynamo.reset()
    return result


def dynamo_check(
    module_id: str,
    *,
    batch: int = 2,
    modes: Sequence[str] = MODES,
    backward: bool = True,
    config: dict[str, Any] | None = None,
) -> CheckResult:
    """Capture ``cvattn.create(module_id, **config)`` with dynamo (``fullgraph=True``, eager backend) and
    compare it with the eager module on ``cvattn.example_input(module_id, batch)``: forward in each of
    ``modes`` (eval under ``torch.no_grad``), and in train mode a backward of ``mean(out**2)``.

    Returns a :class:`CheckResult`; a graph break is a failure whose ``error`` is dynamo's reason.
    """
    backend = _CountingEager()
    result = _run_pair(
        module_id,
        lambda m: torch.compile(m, backend=backend, fullgraph=True),
        batch=batch,
        tol=DYNAMO_TOLERANCE,
        modes=modes,
        backward=backward,
        config=config,
    )
    result.graphs, result.ops = backend.graphs, backend.ops
    if result.ok and backend.ops == 0:
        result.ok, result.stage, result.error = False, "compare", "dynamo captured no operation"
    return result


def inductor_check(
    module_id: str, *, batch: int = 2, modes: Sequence[str] = MODES, config: dict[str, Any] | None = None
) -> CheckResult:
    """Like :func:`dynamo_check`, compiled end to end by :func:`compile_module` (inductor, generated C++)."""
    return _run_pair(
        module_id, compile_module, batch=batch, tol=INDUCTOR_TOLERANCE, modes=modes, config=config
    )


# --------------------------------------------------------------------------------- command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m scripts compile-check``."""
    parser.add_argument("ids", nargs="*", metavar="ID", help="module ids (default: every registered module)")
    parser.add_argument(
        "--inductor", action="store_true", help="compile end to end with inductor instead (slow)"
    )
    parser.add_argument("--batch", type=int, default=2, help="batch of the example input (default: 2)")


def command_compile_check(args: argparse.Namespace) -> int:
    """Run every module (or the given ids) under ``torch.compile(fullgraph=True)`` and compare with eager.

    Default: dynamo with the eager backend (the graph-break check, about a second a module); forward in
    eval and train mode and a backward, outputs and gradients compared with the eager module. Prints one
    line per module (status, graphs, operations, largest difference, seconds, and dynamo's reason for a
    failure) and exits 1 when any module fails.

    Options:
        ID ...       module ids (default: every registered module)
        --inductor   compile end to end with inductor (generates C++; minutes for the whole registry)
        --batch N    batch size of the example input (default: 2)
    """
    import cvattn

    registered = cvattn.list_modules()
    ids = args.ids or registered
    unknown = [i for i in ids if i not in registered]
    if unknown:
        print(f"unknown module id(s): {', '.join(unknown)}")
        return 1
    if args.inductor and not has_cxx_compiler():
        print("compile-check --inductor: no C++ compiler (g++, c++ or clang++) on PATH")
        return 1
    check = inductor_check if args.inductor else dynamo_check
    failed: list[CheckResult] = []
    total = time.perf_counter()
    print(f"{'module':40s} {'status':6s} {'graphs':>6s} {'ops':>5s} {'max diff':>9s} {'s':>5s}")
    for module_id in ids:
        r = check(module_id, batch=args.batch)
        status = "ok" if r.ok else "FAIL"
        line = f"{module_id:40s} {status:6s} {r.graphs:6d} {r.ops:5d} {r.max_diff:9.2g} {r.seconds:5.1f}"
        if not r.ok:
            failed.append(r)
            line += f"  [{r.stage}] {r.error}"
        print(line, flush=True)
    print(
        f"\n{len(ids) - len(failed)}/{len(ids)} modules passed "
        f"({'inductor' if args.inductor else 'dynamo, eager backend'}, fullgraph=True) "
        f"in {time.perf_counter() - total:.0f} s"
    )
    return 1 if failed else 0
