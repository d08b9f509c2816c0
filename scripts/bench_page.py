"""The Benchmarks page (en and zh) and the terminal summary, generated from ``docs/data/bench.json``.

``python -m scripts bench`` (``./dev bench``) writes the data; nothing here imports torch or a peer library.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from . import render
from .catalog import ROOT, Catalog

BENCH_FILE = ROOT / "docs" / "data" / "bench.json"
TITLE = {"en": "Benchmarks", "zh": "速度对比"}
LABELS = {
    "en": {
        "intro": (
            "How fast each `cvattn` module runs against the best public implementation of the same mechanism: "
            "[timm](https://github.com/huggingface/pytorch-image-models) and fightingcv-attention, the package of "
            "[External-Attention-pytorch](https://github.com/xmu-xiaoma666/External-Attention-pytorch). Every "
            "figure is one **forward + backward** pass in training mode (gradients of the parameters and of the "
            "input) on the CPU, both sides in one process with one torch, on the same input. Timing is "
            "**interleaved**: each repeat runs one pass of cvattn and one of the peer, alternating which goes "
            "first, after a warm-up; the tables give the medians of the repeats, the ratio of the two medians, and in "
            "brackets the interquartile range of the per-repeat ratios (how steady the comparison was). Each pair is configured to "
            "compute the same thing, and its section says how it was aligned and what is left different. The "
            "runs list gives the settings of glibc's allocator each ran with: pinned (`./dev bench` does so), freed "
            "tensors are reused instead of being returned to the system and faulted in again on the next pass, "
            "which otherwise makes memory-bound cells erratic."
        ),
        "ratio_rule": (
            "**Ratio = cvattn time / peer time. Below 1 means cvattn is faster; above 1 (in bold) means the peer "
            "is faster.**"
        ),
        "command": "Made by",
        "cell_count": "cells",
        "allocator": "allocator",
        "glibc_defaults": "glibc defaults",
        "machine": "Machine",
        "cpu": "CPU",
        "cores": "cores",
        "environments": "Environments",
        "env": "environment",
        "date": "date",
        "summary": "Summary",
        "cells": "{measured} cells measured ({faster} with cvattn faster or equal, ratio ≤ 1; {slower} with the "
        "peer faster), {skipped} not run (the reason is given in the pair's section).",
        "ratios": "Ratios",
        "module": "Module",
        "peer": "Peer",
        "threads": "{n} thread",
        "threads_plural": "{n} threads",
        "pairs": "Pairs",
        "alignment": "Alignment",
        "size": "Input (N×C×H×W)",
        "thr": "Threads",
        "ours": "cvattn ms",
        "theirs": "peer ms",
        "ratio": "Ratio (IQR)",
        "repeats": "Repeats",
        "compiled": "Compiled ms (cvattn / peer)",
        "params": "Parameters (cvattn / peer)",
        "not_run": "not run",
        "paper": "Paper",
        "compiled_note": (
            "*Compiled*: both sides compiled by inductor for static shapes (cvattn with `fullgraph=True`, the "
            "peer with plain `torch.compile`, which lets graph breaks fall back to eager), timed the same way "
            "after compiling; measured for the fastest modules of each environment."
        ),
        "not_counterparts": "Considered, not counterparts",
        "not_counterparts_intro": (
            "Peer classes that were checked against the registry and are not the same mechanism as the cvattn "
            "module of a similar name (or have no cvattn module), so they are not timed:"
        ),
        "peer_class": "Peer class",
        "reason": "Reason",
        "none": "—",
        "no_data": "No benchmark has been run yet: `./dev bench` writes `docs/data/bench.json`.",
        "no_module": "(none)",
        "colon": ": ",
    },
    "zh": {
        "intro": (
            "本页比较每个 `cvattn` 模块与同一机制的最佳公开实现的速度：[timm](https://github.com/huggingface/"
            "pytorch-image-models) 以及 fightingcv-attention（即 [External-Attention-pytorch](https://github.com/"
            "xmu-xiaoma666/External-Attention-pytorch) 发布的包）。每个数字都是在 CPU 上、训练模式下的一次**前向 + 反向**"
            "（同时计算参数与输入的梯度），两边在同一进程、同一个 torch 中，使用相同的输入。计时采用**交替**方式：预热之后，"
            "每一轮先后各运行一次 cvattn 与对照实现，并轮流交换先后顺序；表中给出各轮耗时的中位数、两个中位数之比，括号内是逐轮比值的四分位距"
            "（反映比较是否稳定）。每一对模块都配置为计算相同的"
            "内容，其小节说明了对齐方式以及仍然存在的差异。运行记录列出了每次运行所用的 glibc 内存分配器设置："
            "固定这些设置后（`./dev bench` 默认如此），释放的张量会被重复利用，而不是归还给系统、在下一轮重新触发缺页，"
            "否则受内存带宽限制的单元测得的时间会很不稳定。"
        ),
        "ratio_rule": "**比值 = cvattn 耗时 / 对照实现耗时。小于 1 表示 cvattn 更快；大于 1（加粗）表示对照实现更快。**",
        "command": "生成命令",
        "cell_count": "单元数",
        "allocator": "内存分配器",
        "glibc_defaults": "glibc 默认设置",
        "machine": "测试机器",
        "cpu": "CPU",
        "cores": "核",
        "environments": "运行环境",
        "env": "环境",
        "date": "日期",
        "summary": "概览",
        "cells": "共测得 {measured} 个单元（其中 {faster} 个 cvattn 更快或持平，比值 ≤ 1；{slower} 个对照实现更快），"
        "{skipped} 个未运行（原因见对应小节）。",
        "ratios": "比值",
        "module": "模块",
        "peer": "对照实现",
        "threads": "{n} 线程",
        "threads_plural": "{n} 线程",
        "pairs": "逐对说明",
        "alignment": "对齐方式",
        "size": "输入（N×C×H×W）",
        "thr": "线程数",
        "ours": "cvattn 毫秒",
        "theirs": "对照毫秒",
        "ratio": "比值（四分位距）",
        "repeats": "轮数",
        "compiled": "编译后毫秒（cvattn / 对照）",
        "params": "参数量（cvattn / 对照）",
        "not_run": "未运行",
        "paper": "论文",
        "compiled_note": (
            "*编译后*：两边都由 inductor 按静态形状编译（cvattn 使用 `fullgraph=True`，对照实现使用普通的 "
            "`torch.compile`，遇到图中断时该部分退回 eager 执行），编译完成后按同样方式计时；只对每个环境中最快的"
            "若干模块测量。"
        ),
        "not_counterparts": "已考察但并非同一机制",
        "not_counterparts_intro": "以下对照类已与注册表逐一核对，它们与名称相近的 cvattn 模块并非同一机制（或 cvattn 中没有对应模块），因此不计时：",
        "peer_class": "对照类",
        "reason": "原因",
        "none": "—",
        "no_data": "尚未运行基准测试：`./dev bench` 会写出 `docs/data/bench.json`。",
        "no_module": "（无）",
        "colon": "：",
    },
}
PEER_NAMES = {"timm": "timm", "fightingcv": "fightingcv"}


def load_bench(path: Path = BENCH_FILE) -> dict[str, Any]:
    """docs/data/bench.json, or an empty record."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def anchor(key: str) -> str:
    """The page anchor of a pair: ``p-`` and its key in lower-case letters, digits and dashes."""
    return "p-" + re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def size_name(size: list[int]) -> str:
    return "×".join(map(str, size))


def columns(data: dict[str, Any]) -> list[tuple[tuple[int, ...], int]]:
    """The (size, threads) cells present in the data, largest maps first, then by threads."""
    found = {(tuple(c["size"]), c["threads"]) for p in data.get("pairs", {}).values() for c in p["cells"]}
    return sorted(found, key=lambda st: (-st[0][2], st[0][1], st[1]))


def _ratio(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return ""
    if "ratio" not in cell:
        return "—"
    value = f"{cell['ratio']:.2f}"
    return f"**{value}**" if cell["ratio"] > 1 else value


def _threads(n: int, lang: str) -> str:
    return LABELS[lang]["threads" if n == 1 else "threads_plural"].format(n=n)


def _module_link(catalog: Catalog, module_id: str) -> str:
    paper = catalog.paper_of_module(module_id)
    label = f"`{module_id}`"
    return render.link(label, f"papers/{paper.id}.md") if paper is not None else label


def _peer(entry: dict[str, Any]) -> str:
    return f"{PEER_NAMES.get(entry['peer'], entry['peer'])} `{entry['peer_class']}`"


def counts(data: dict[str, Any]) -> dict[str, int]:
    cells = [c for p in data.get("pairs", {}).values() for c in p["cells"]]
    measured = [c for c in cells if "ratio" in c]
    return {
        "measured": len(measured),
        "faster": sum(c["ratio"] <= 1 for c in measured),
        "slower": sum(c["ratio"] > 1 for c in measured),
        "skipped": len(cells) - len(measured),
    }


def _provenance(data: dict[str, Any], lang: str) -> str:
    L = LABELS[lang]
    m = data.get("machine", {})
    comma, stop = (", ", ".") if lang == "en" else ("，", "。")
    out = [
        f"{render.bold_label(L['machine'], lang)}{L['cpu']} {render.text(str(m.get('cpu', '?')))}{comma}"
        f"{m.get('cores', '?')} {L['cores']}"
    ]
    if m.get("platform"):
        out.append(f"{comma}{render.text(m['platform'])}{comma}Python {m.get('python', '?')}")
    out.append(f"{stop}\n\n")
    envs = data.get("environments", {})
    if envs:
        peers = sorted({k for e in envs.values() for k in e if k not in ("torch", "date", "command")})
        out.append(f"**{L['environments']}**{L['colon']}\n\n")
        out.append(f"| {L['env']} | torch | " + " | ".join(peers) + " |\n")
        out.append("| --- " * (len(peers) + 2) + "|\n")
        for name, e in sorted(envs.items()):
            versions = " | ".join(e.get(p) or "—" for p in peers)
            out.append(f"| `.bench/{name}` | {e.get('torch', '?')} | {versions} |\n")
        out.append("\n")
    runs = data.get("runs", {})
    if runs:
        cells = [c for p in data.get("pairs", {}).values() for c in p["cells"]]
        out.append(f"**{L['command']}**{L['colon']}\n\n")
        out.append(
            f"| {L['date']} | {L['env']} | {L['cell_count']} | {L['allocator']} | {L['command']} |\n"
            "| --- | --- | --- | --- | --- |\n"
        )
        for run_id, run in sorted(runs.items()):
            n = sum(c.get("run") == run_id for c in cells)
            command = run["command"].replace("`", "")
            settings = run.get("allocator") or {}
            alloc = "<br>".join(f"`{k}={v}`" for k, v in settings.items()) or L["glibc_defaults"]
            out.append(f"| {run.get('date', '?')} | `.bench/{run['env']}` | {n} | {alloc} | `{command}` |\n")
        out.append("\n")
    return "".join(out)


def page(catalog: Catalog, data: dict[str, Any], lang: str) -> str:
    """The Benchmarks page in ``lang``: provenance, the ratio table, one section per pair, the audit list."""
    L = LABELS[lang]
    out = [render._front(TITLE[lang]), f"# {TITLE[lang]}\n\n{L['intro']}\n\n{L['ratio_rule']}\n\n"]
    pairs = data.get("pairs", {})
    if not pairs:
        return "".join(out) + L["no_data"] + "\n"
    out.append(_provenance(data, lang))
    out.append(f"## {L['summary']}\n\n" + L["cells"].format(**counts(data)) + "\n\n")
    cols = columns(data)
    out.append(f"## {L['ratios']}\n\n")
    out.append('<div class="cvattn-sortable" markdown>\n\n')
    header = " | ".join(f"{size_name(list(s))}<br>{_threads(t, lang)}" for s, t in cols)
    out.append(f"| {L['module']} | {L['peer']} | {header} |\n| --- | --- |" + " --- |" * len(cols) + "\n")
    for key, entry in sorted(pairs.items(), key=lambda kv: (kv[1]["id"], kv[1]["peer"], kv[0])):
        by_col = {(tuple(c["size"]), c["threads"]): c for c in entry["cells"]}
        ratios = " | ".join(_ratio(by_col.get(col)) for col in cols)
        out.append(
            f"| {_module_link(catalog, entry['id'])} | [{_peer(entry)}](#{anchor(key)}) | {ratios} |\n"
        )
    out.append("\n</div>\n\n")
    out.append(f"## {L['pairs']}\n\n")
    any_compiled = False
    for key, entry in sorted(pairs.items(), key=lambda kv: (kv[1]["id"], kv[1]["peer"], kv[0])):
        out.append(f"### `{entry['id']}` · {_peer(entry)} {{ #{anchor(key)} }}\n\n")
        paper = catalog.paper_of_module(entry["id"])
        if paper is not None:
            out.append(
                f"{L['paper']}{L['colon']}{render.link(render.text(paper.title), f'papers/{paper.id}.md')}. "
            )
        out.append(f"`{entry['peer_path']}`\n\n")
        alignment = entry.get("alignment", {})
        out.append(
            f"**{L['alignment']}**{L['colon']}{render.text(alignment.get(lang) or alignment.get('en', ''))}\n\n"
        )
        compiled = any("compiled" in c for c in entry["cells"])
        any_compiled |= compiled
        head = [L["size"], L["thr"], L["ours"], L["theirs"], L["ratio"], L["repeats"], L["params"]]
        if compiled:
            head.append(L["compiled"])
        out.append("| " + " | ".join(head) + " |\n" + "| --- " * len(head) + "|\n")
        for cell in entry["cells"]:
            size, thr = size_name(cell["size"]), str(cell["threads"])
            if "ratio" not in cell:
                reason = (cell.get("skipped") or {}).get(lang) or (cell.get("skipped") or {}).get("en", "")
                row = [size, thr, L["not_run"] + L["colon"] + render.text(reason)] + [""] * (len(head) - 3)
            else:
                q1, q3 = cell.get("ratio_iqr", [cell["ratio"], cell["ratio"]])
                row = [
                    size,
                    thr,
                    f"{cell['ms_ours']:.2f}",
                    f"{cell['ms_peer']:.2f}",
                    f"{_ratio(cell)} ({q1:.2f}–{q3:.2f})",
                    str(cell.get("repeats", "")),
                    f"{cell.get('params_ours', '?'):,} / {cell.get('params_peer', '?'):,}",
                ]
                if compiled:
                    got = cell.get("compiled")
                    if got is None:
                        row.append("")
                    elif "ratio" in got:
                        row.append(f"{got['ms_ours']:.2f} / {got['ms_peer']:.2f} ({_ratio(got)})")
                    else:
                        reason = got["skipped"].get(lang) or got["skipped"]["en"]
                        row.append(L["not_run"] + L["colon"] + render.text(reason))
            out.append("| " + " | ".join(row) + " |\n")
        out.append("\n")
    if any_compiled:
        out.append(L["compiled_note"] + "\n\n")
    audit = data.get("not_counterparts", [])
    if audit:
        out.append(f"## {L['not_counterparts']}\n\n{L['not_counterparts_intro']}\n\n")
        out.append(f"| {L['module']} | {L['peer_class']} | {L['reason']} |\n| --- | --- | --- |\n")
        for item in audit:
            module = _module_link(catalog, item["id"]) if item.get("id") else L["no_module"]
            reason = item["reason"].get(lang) or item["reason"]["en"]
            out.append(f"| {module} | {item['peer']} `{item['peer_path']}` | {render.text(reason)} |\n")
        out.append("\n")
    return "".join(out)


def pages(catalog: Catalog, data: dict[str, Any] | None = None) -> dict[str, str]:
    """The page in both languages, keyed by its path under docs/."""
    data = load_bench() if data is None else data
    return {
        f"{render.GENERATED_DIR}/benchmarks{render.suffix(lang)}.md": page(catalog, data, lang)
        for lang in render.LANGS
    }


def terminal_summary(data: dict[str, Any]) -> str:
    """The ratio table for the terminal (ratio = cvattn / peer; below 1: cvattn is faster)."""
    cols = columns(data)
    names = [f"{'x'.join(map(str, s))}/t{t}" for s, t in cols]
    width = max((len(k) for k in data.get("pairs", {})), default=10)
    lines = [
        "ratio = cvattn time / peer time (below 1: cvattn is faster)",
        " " * width + "  " + "  ".join(f"{n:>16s}" for n in names),
    ]
    for key, entry in sorted(data.get("pairs", {}).items()):
        by_col = {(tuple(c["size"]), c["threads"]): c for c in entry["cells"]}
        cells = []
        for col in cols:
            cell = by_col.get(col)
            cells.append(f"{cell['ratio']:16.2f}" if cell and "ratio" in cell else f"{'-':>16s}")
        lines.append(f"{key:{width}s}  " + "  ".join(cells))
    n = counts(data)
    lines.append(
        f"{n['measured']} cells measured: {n['faster']} with ratio <= 1, {n['slower']} above; {n['skipped']} not run"
    )
    return "\n".join(lines) + "\n"
