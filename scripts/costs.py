"""What each registered module costs: parameters, FLOPs, CPU latency, peak memory, and their growth.

Definitions, the same everywhere in the project:

- **parameters**: ``sum(p.numel() for p in module.parameters())`` (buffers such as BatchNorm running
  statistics are not counted).
- **FLOPs**: counted by ``torch.utils.flop_counter.FlopCounterMode(display=False)`` on one forward
  pass in eval mode. It counts **2 FLOPs per multiply-add of matmul- and convolution-like ops**
  (``mm``, ``bmm``, ``addmm``, ``baddbmm``, ``conv``, ``scaled_dot_product_attention``, ...) and
  **skips element-wise ops** (activations, additions, gating multiplications, softmax, pooling,
  normalisation), so a parameter-free gate counts 0. **MACs** = FLOPs / 2. Both depend only on
  the configuration and the input shapes, so they are recomputable exactly.
- **latency**: median wall time in milliseconds of repeated runs after warm-up, on CPU with a stated
  number of threads: ``forward`` is one inference pass (eval mode, ``torch.no_grad``),
  ``forward_backward`` one training step's pass (train mode, ``output.sum().backward()``, input
  requiring grad). Timings depend on the machine and are only stored, never compared.
- **peak memory**: the highest amount of tensor memory held by the CPU allocator during the pass,
  above what was held before it (the input and the parameters are not counted), in MB (10^6
  bytes). It is read from ``torch.profiler`` with ``profile_memory=True``: every profiler event
  carries the bytes it allocated minus the bytes it freed, and the running sum over the events in
  time order gives the allocation timeline, whose maximum is the peak. (``tracemalloc`` does not
  see torch's allocator, and the process RSS only ever grows, so neither is used.)

Standard inputs (:func:`measure`): attention modules are built with ``channels=64`` and ``channels=256``
and run on ``1x64x56x56`` and ``8x256x14x14``; other kinds run on the registry's example input at
batch 1 and 8. When a module's default configuration holds the example's spatial size (an ``(H, W)``
tuple, or an int ``H`` under a name containing ``size`` or ``resolution``), it is re-bound to the
measured size; :func:`adapt_config` is that one rule, used both to measure and to recompute.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "data" / "costs.json"
FORMAT = 1

ATTENTION_SETTINGS = ((1, 64, 56), (8, 256, 14))
"""Standard inputs of attention modules: (batch, channels, resolution)."""
OTHER_BATCHES = (1, 8)
"""Batch sizes of the registry's example input for the other kinds."""
RESOLUTIONS = (14, 28, 56, 112)
"""Resolutions of :func:`scaling`; 112 only where it is affordable (see :func:`scaling`)."""
MAX_FLOPS_AT_112 = 10e9
MAX_MS_AT_56 = 60.0

_SVG_RC = {"svg.hashsalt": "cvattn", "svg.fonttype": "none", "font.family": "DejaVu Sans"}

Shapes = tuple[tuple[int, ...], ...]


# --------------------------------------------------------------------------------------- inputs


def _as_shapes(input_shape_or_inputs: Any) -> Shapes:
    """Normalise a shape, a tuple of shapes, a tensor or a tuple of tensors to a tuple of shapes."""
    value = input_shape_or_inputs
    if isinstance(value, torch.Tensor):
        return (tuple(value.shape),)
    if isinstance(value, Sequence) and value and all(isinstance(v, int) for v in value):
        return (tuple(int(v) for v in value),)
    if isinstance(value, Sequence) and value:
        return tuple(
            tuple(v.shape) if isinstance(v, torch.Tensor) else tuple(int(d) for d in v) for v in value
        )
    raise ValueError(f"expected an input shape, a tuple of shapes or tensors, got {value!r}")


def adapt_config(module_id: str, shapes: Shapes) -> dict[str, Any]:
    """The configuration overrides that make module ``module_id`` accept inputs of ``shapes``.

    - channels: for attention and fusion modules ``channels`` follows the first input's channels;
      for blocks ``in_channels`` does, and ``out_channels`` too when it equals ``in_channels`` by
      default;
    - heads: when the new channel count is not divisible by the default ``num_heads`` (Swin's 3 heads of
      96 channels, at 64 channels), ``num_heads`` keeps the default head width (64 / 32 = 2 heads), or
      falls back to the largest head count that divides the channels;
    - spatial size: a default equal to the example's ``(H, W)``, or an int equal to ``H`` under a
      name containing ``size`` or ``resolution``, follows the first input's ``(H, W)``.

    Only values that differ from the defaults are returned.
    """
    import cvattn

    spec = cvattn.get_spec(module_id)
    defaults = spec.defaults
    first = shapes[0]
    overrides: dict[str, Any] = {}
    if len(first) >= 2:
        channels = first[1]
        if "channels" in defaults and defaults["channels"] != channels:
            overrides["channels"] = channels
        if "in_channels" in defaults and defaults["in_channels"] != channels:
            overrides["in_channels"] = channels
            if defaults.get("out_channels") == defaults["in_channels"]:
                overrides["out_channels"] = channels
        heads = defaults.get("num_heads")
        if isinstance(heads, int) and "channels" in overrides and channels % heads:
            width = defaults["channels"] // heads
            overrides["num_heads"] = (
                channels // width
                if channels % width == 0
                else max(h for h in range(1, heads + 1) if channels % h == 0)
            )
    example = spec.inputs[0]
    if len(first) == 4 and len(example) == 3:
        old_hw, new_hw = tuple(example[-2:]), tuple(first[-2:])
        for name, value in sorted(defaults.items()):
            if isinstance(value, tuple | list) and tuple(value) == old_hw and new_hw != old_hw:
                overrides[name] = type(value)(new_hw)
            elif (
                isinstance(value, int)
                and not isinstance(value, bool)
                and ("size" in name or "resolution" in name)
                and value == old_hw[0]
                and new_hw[0] != old_hw[0]
            ):
                overrides[name] = new_hw[0]
    return overrides


def _build(module_id: str, shapes: Shapes) -> tuple[nn.Module, dict[str, Any]]:
    import cvattn

    overrides = adapt_config(module_id, shapes)
    return cvattn.create(module_id, **overrides), overrides


def _tensors(shapes: Shapes, requires_grad: bool = False) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return tuple(torch.randn(s, generator=g).requires_grad_(requires_grad) for s in shapes)


def _scaled_shapes(
    module_id: str, batch: int, resolution: int | None = None, channels: int | None = None
) -> Shapes:
    """The registry's example shapes at ``batch``; with ``resolution``, the first input becomes
    ``resolution`` x ``resolution`` and the other maps scale by the same factor (1x1 inputs stay
    1x1); with ``channels``, the first input's channels are replaced."""
    import cvattn

    example = cvattn.get_spec(module_id).inputs
    base = example[0][-2] if len(example[0]) == 3 else None
    shapes = []
    for i, s in enumerate(example):
        s = list(s)
        if channels is not None and i == 0:
            s[0] = channels
        if resolution is not None and base and len(s) == 3 and (i == 0 or min(s[1:]) > 1):
            # every map keeps its size relative to the first one (e.g. a half-resolution guide);
            # 1x1 inputs are vectors (a previous block's attention) and stay 1x1
            s[1:] = [max(1, round(d * resolution / base)) for d in s[1:]]
            if i == 0:
                s[1:] = [resolution, resolution]
        shapes.append((batch, *s))
    return tuple(shapes)


# ----------------------------------------------------------------------------------- static costs


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (``numel``) of ``module``; buffers are not parameters."""
    return sum(p.numel() for p in module.parameters())


def count_flops(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> int:
    """FLOPs of one forward pass as ``FlopCounterMode`` counts them (2 per multiply-add of
    matmul/conv-like ops; element-wise ops are not counted)."""
    from torch.utils.flop_counter import FlopCounterMode

    module.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(*inputs)
    return int(counter.get_total_flops())


def static_costs(
    module_id: str, input_shape_or_inputs: Any, config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Parameters, FLOPs and MACs of ``module_id`` on one input (exactly recomputable).

    Args:
        module_id: registry id.
        input_shape_or_inputs: a full input shape ``(N, C, H, W)``, a tuple of shapes for a module
            that takes several inputs, or the tensors themselves.
        config: configuration overrides; by default :func:`adapt_config` derives them from the
            input shapes (channels and spatial size).

    Returns:
        ``{"input": [[N, C, H, W], ...], "config": {...}, "params": int, "flops": int, "macs": int}``.
        FLOPs are counted by ``torch.utils.flop_counter.FlopCounterMode(display=False)``: 2 FLOPs
        per multiply-add of matmul- and convolution-like ops, element-wise ops skipped;
        ``macs = flops // 2``.
    """
    import cvattn

    shapes = _as_shapes(input_shape_or_inputs)
    if config is None:
        module, overrides = _build(module_id, shapes)
    else:
        module, overrides = cvattn.create(module_id, **config), dict(config)
    flops = count_flops(module, _tensors(shapes))
    return {
        "input": [list(s) for s in shapes],
        "config": _jsonable(overrides),
        "params": count_parameters(module),
        "flops": flops,
        "macs": flops // 2,
    }


# ------------------------------------------------------------------------------------------ timing


def _median_ms(fn, min_runs: int = 5, max_runs: int = 50, budget_s: float = 0.4) -> tuple[float, int]:
    """Median wall time of ``fn`` in ms after warm-up, and the number of timed runs."""
    start = time.perf_counter()
    fn()
    if time.perf_counter() - start < 0.5:
        fn()
    times: list[float] = []
    spent = 0.0
    while len(times) < max_runs and (len(times) < min_runs or spent < budget_s):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        times.append(dt)
        spent += dt
        if dt > 0.1 and len(times) >= 3:  # slow: three runs are enough for a median
            break
    return statistics.median(times) * 1e3, len(times)


def _peak_memory_mb(fn) -> float:
    """Peak tensor memory (MB) allocated while ``fn`` runs, above what was held before: the
    maximum of the running sum of the allocated-minus-freed bytes of ``torch.profiler`` events."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted(prof.events(), key=lambda e: (e.time_range.start, -e.time_range.end))
    current = peak = 0
    for event in events:
        current += event.self_cpu_memory_usage
        peak = max(peak, current)
    return peak / 1e6


def _passes(module: nn.Module, shapes: Shapes):
    inputs = _tensors(shapes)
    grad_inputs = _tensors(shapes, requires_grad=True)

    def forward() -> None:
        module.eval()
        with torch.no_grad():
            module(*inputs)

    def forward_backward() -> None:
        module.train()
        module.zero_grad(set_to_none=True)
        for x in grad_inputs:
            x.grad = None
        out = module(*grad_inputs)
        out = out if isinstance(out, torch.Tensor) else torch.cat([o.flatten() for o in out])
        out.float().sum().backward()

    return forward, forward_backward


def measure_setting(module_id: str, shapes: Shapes, *, memory: bool = True) -> dict[str, Any]:
    """Static costs, latency and (optionally) peak memory of ``module_id`` on inputs of ``shapes``."""
    result = static_costs(module_id, shapes)
    module, _ = _build(module_id, shapes)
    forward, forward_backward = _passes(module, shapes)
    fwd_ms, fwd_runs = _median_ms(forward)
    bwd_ms, bwd_runs = _median_ms(forward_backward)
    result["latency_ms"] = {"forward": round(fwd_ms, 3), "forward_backward": round(bwd_ms, 3)}
    result["runs"] = {"forward": fwd_runs, "forward_backward": bwd_runs}
    if memory:
        result["peak_memory_mb"] = {
            "forward": round(_peak_memory_mb(forward), 3),
            "forward_backward": round(_peak_memory_mb(forward_backward), 3),
        }
    return result


def standard_inputs(module_id: str) -> list[Shapes]:
    """The stated inputs of :func:`measure` for ``module_id`` (see the module docstring)."""
    import cvattn

    if cvattn.get_spec(module_id).kind == "attention":
        return [((b, c, r, r),) for b, c, r in ATTENTION_SETTINGS]
    return [_scaled_shapes(module_id, b) for b in OTHER_BATCHES]


def _cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(threads: int | None = None) -> dict[str, Any]:
    """Where and how timings were taken: machine, CPU count, torch version, date, threads."""
    return {
        "machine": _cpu_name(),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(terse=True),
        "cpu_count": os.cpu_count(),
        "threads": threads if threads is not None else torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def measure(module_id: str, *, memory: bool = True) -> dict[str, Any]:
    """Costs of ``module_id`` at its standard inputs, with provenance.

    Returns:
        ``{"kind", "settings": [{"input", "config", "params", "flops", "macs", "latency_ms":
        {"forward", "forward_backward"}, "runs", "peak_memory_mb": {...}} or {"input", "error"}],
        "provenance"}``. A setting that fails records its error instead of stopping the others.
    """
    import cvattn

    settings = []
    for shapes in standard_inputs(module_id):
        try:
            settings.append(measure_setting(module_id, shapes, memory=memory))
        except Exception as exc:  # a module that fails at one size still gets its other rows
            settings.append({"input": [list(s) for s in shapes], "error": _error(exc)})
    return {
        "kind": cvattn.get_spec(module_id).kind,
        "settings": settings,
        "provenance": provenance(),
    }


def scaling(module_id: str, resolutions: Sequence[int] = RESOLUTIONS) -> dict[str, Any]:
    """FLOPs and forward latency of ``module_id`` at batch 1 over square resolutions.

    Attention modules use 64 channels, the others their example channels. 112 (and anything above
    56) is measured only where it is affordable: FLOPs extrapolated from 28→56 at most
    :data:`MAX_FLOPS_AT_112` and forward latency at 56 at most :data:`MAX_MS_AT_56` ms.

    Returns:
        ``{"channels", "resolutions": [...], "flops": [...], "latency_ms": [...]}``, plus
        ``"error"`` when a resolution failed (the lists stop before it).
    """
    import cvattn

    channels = 64 if cvattn.get_spec(module_id).kind == "attention" else None
    out: dict[str, Any] = {"resolutions": [], "flops": [], "latency_ms": []}
    for r in sorted(resolutions):
        if r > 56 and len(out["flops"]) >= 2 and out["resolutions"][-1] == 56:
            growth = out["flops"][-1] / max(out["flops"][-2], 1)
            if out["flops"][-1] * growth > MAX_FLOPS_AT_112 or out["latency_ms"][-1] > MAX_MS_AT_56:
                out["skipped"] = [x for x in resolutions if x >= r]
                break
        shapes = _scaled_shapes(module_id, 1, r, channels)
        try:
            static = static_costs(module_id, shapes)
            module, _ = _build(module_id, shapes)
            forward, _ = _passes(module, shapes)
            ms, _ = _median_ms(forward, min_runs=3, max_runs=20, budget_s=0.2)
        except Exception as exc:
            out["error"] = f"at {r}x{r}: {_error(exc)}"
            break
        out["resolutions"].append(r)
        out["flops"].append(static["flops"])
        out["latency_ms"].append(round(ms, 3))
    out["channels"] = shapes[0][1] if out["resolutions"] else channels
    return out


# ------------------------------------------------------------------------------------------- plot

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten_label(value: float, _position: int | None = None) -> str:
    """``10⁶`` for a power of ten, nothing otherwise: plain text, so matplotlib need not parse mathtext
    (the default log-axis labels are ``$10^{6}$``, and parsing them was half the time of a plot)."""
    if value <= 0:
        return ""
    exponent = round(math.log10(value))
    if not math.isclose(value, 10.0**exponent, rel_tol=1e-9):
        return ""
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _plain_log_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(_power_of_ten_label))


def plot_scaling(data: dict[str, Any]) -> str:
    """Log-log SVG of FLOPs and forward latency against resolution.

    ``data`` is one :func:`scaling` result, or a mapping of module id to such results (one line
    each). Dotted guides show growth proportional to H·W and to (H·W)². Byte-identical across runs.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    series = {"": data} if "resolutions" in data else dict(sorted(data.items()))
    with matplotlib.rc_context(_SVG_RC):
        fig = Figure(figsize=(8.0, 3.2))
        axes = fig.subplots(1, 2)
        for ax, key, ylabel in (
            (axes[0], "flops", "FLOPs (forward)"),
            (axes[1], "latency_ms", "CPU latency, forward (ms)"),
        ):
            firsts = []
            for name, s in series.items():
                xs, ys = s.get("resolutions", []), s.get(key, [])
                pts = [(x, y) for x, y in zip(xs, ys, strict=False) if y and y > 0]
                if not pts:
                    continue
                ax.plot(*zip(*pts, strict=True), marker="o", ms=3.5, lw=1.4, label=name or None)
                firsts.append(pts[0])
            if firsts:
                x0, y0 = min(firsts)
                xs = [x0, max(RESOLUTIONS)]
                ax.plot(xs, [y0 * (x / x0) ** 2 for x in xs], ls=":", lw=0.9, color="#777777", label="∝ H·W")
                ax.plot(
                    xs, [y0 * (x / x0) ** 4 for x in xs], ls="--", lw=0.9, color="#aaaaaa", label="∝ (H·W)²"
                )
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            _plain_log_axis(ax.yaxis)
            ax.set_xticks(list(RESOLUTIONS), [f"{r}×{r}" for r in RESOLUTIONS])
            ax.minorticks_off()
            ax.set_xlabel("input resolution (batch 1)", fontsize=8)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, which="major", lw=0.4, color="#dddddd")
            ax.legend(fontsize=6.5, frameon=False, loc="upper left")
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.95, wspace=0.3)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue().decode("utf-8")


def plot_comparison(costs: dict[str, Any], module_ids: Sequence[str]) -> str:
    """Horizontal bars of FLOPs and forward+backward latency of every attention module at the first
    standard input (1x64x56x56), sorted by FLOPs; an SVG, byte-identical across runs."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    rows = []
    for module_id in sorted(module_ids):
        entry = costs.get("modules", {}).get(module_id)
        if not entry or entry.get("kind") != "attention" or not entry.get("settings"):
            continue
        first = entry["settings"][0]
        if "flops" in first and "latency_ms" in first:
            rows.append((module_id, first["flops"], first["latency_ms"]["forward_backward"]))
    rows.sort(key=lambda r: (r[1], r[0]))
    height = max(2.0, 0.22 * len(rows) + 0.9)
    with matplotlib.rc_context(_SVG_RC):
        fig = Figure(figsize=(8.0, height))
        axes = fig.subplots(1, 2, sharey=True)
        names = [r[0] for r in rows]
        for ax, values, label in (
            (axes[0], [max(r[1], 1) for r in rows], "FLOPs (forward, log scale)"),
            (axes[1], [r[2] for r in rows], "CPU latency, forward+backward (ms, log)"),
        ):
            ax.barh(range(len(rows)), values, color="#3f51b5", height=0.7)
            ax.set_xscale("log")
            _plain_log_axis(ax.xaxis)
            ax.set_xlabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, axis="x", lw=0.4, color="#dddddd")
        axes[0].set_yticks(range(len(rows)), names)
        axes[0].invert_yaxis()
        fig.subplots_adjust(left=0.22, right=0.98, bottom=0.9 / height, top=1 - 0.2 / height, wspace=0.08)
        buf = io.BytesIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue().decode("utf-8")


# ----------------------------------------------------------------------------------------- data file


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"


def load_costs(path: Path | str = DEFAULT_OUT) -> dict[str, Any]:
    """The costs data file, or an empty one when it does not exist."""
    path = Path(path)
    if not path.exists():
        return {"format": FORMAT, "modules": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def dump_costs(data: dict[str, Any]) -> str:
    """The data file's text: sorted keys, two-space indent, a final newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def module_entry(module_id: str, *, threads: int = 1) -> dict[str, Any]:
    """Everything stored for one module: :func:`measure` and :func:`scaling`, under ``threads``."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        entry = measure(module_id)
        entry["scaling"] = scaling(module_id)
        entry["provenance"] = provenance(threads)
        return entry
    finally:
        torch.set_num_threads(previous)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m scripts costs``."""
    parser.add_argument("--only", nargs="+", metavar="ID", help="measure only these module ids")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="data file (default: docs/data/costs.json)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for timing (default: 1)")


def command_costs(args: argparse.Namespace) -> int:
    """Measure every registered module's costs and store them in docs/data/costs.json.

    For each module: parameters, FLOPs and MACs (exactly recomputable; a test recomputes them),
    CPU latency (median, forward and forward+backward) and peak memory at the standard inputs
    (attention: 1x64x56x56 and 8x256x14x14; others: the example input at batch 1 and 8), and FLOPs
    and latency at resolutions 14, 28, 56 (112 where affordable). Each entry records its provenance
    (machine, CPU count, threads, torch version, date). Prints one progress line per module.

    Options:
        --only ID [ID ...]   measure only these ids and keep the other entries of the file
                             (default: measure all registered modules; entries of ids no longer
                             registered are dropped)
        --out FILE           the data file (default: docs/data/costs.json)
        --threads N          torch CPU threads while timing (default: 1)
    """
    import cvattn

    registered = cvattn.list_modules()
    ids = args.only or registered
    unknown = [i for i in ids if i not in registered]
    if unknown:
        print(f"unknown module id(s): {', '.join(unknown)}")
        return 1
    data = load_costs(args.out) if args.only else {"format": FORMAT, "modules": {}}
    data["modules"] = {k: v for k, v in data.get("modules", {}).items() if k in registered}
    failed = 0
    total = time.perf_counter()
    for n, module_id in enumerate(ids, 1):
        start = time.perf_counter()
        entry = module_entry(module_id, threads=args.threads)
        data["modules"][module_id] = entry
        errors = [s["error"] for s in entry["settings"] if "error" in s]
        if "error" in entry["scaling"]:
            errors.append(entry["scaling"]["error"])
        failed += bool(errors)
        ok = [s for s in entry["settings"] if "error" not in s]
        summary = ", ".join(
            f"{'x'.join(map(str, s['input'][0]))}: {s['flops'] / 1e6:.1f} MFLOPs {s['latency_ms']['forward']:.2f} ms"
            for s in ok
        )
        note = f"; ERROR {errors[0]}" if errors else ""
        print(
            f"[{n}/{len(ids)}] {module_id}: {summary}{note} ({time.perf_counter() - start:.1f} s)",
            flush=True,
        )
    data["format"] = FORMAT
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(dump_costs(data), encoding="utf-8")
    print(f"{len(ids)} module(s) measured in {time.perf_counter() - total:.1f} s -> {args.out}")
    return 1 if failed else 0
