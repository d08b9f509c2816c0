"""The leaderboard: results the papers report (from the catalogue) beside results of the evaluation harness.

``leaderboard_markdown`` writes the page body (two sortable tables); ``scatter_svg`` draws accuracy
against cost. Harness results on the digits data are labelled as a smoke benchmark: 360 test images of
8 x 8 digits say that a module trains inside a ResNet, not which mechanism is better.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import render
from .catalog import Catalog

LABELS = {
    "en": {
        "harness": "Results of the evaluation harness",
        "harness_intro": (
            "Measured by `python -m scripts evaluate`: a randomly initialised CIFAR ResNet with the module in "
            "every residual block (before the addition), trained with SGD and a cosine schedule. Hardware, "
            "date and commit of each run are in the data file."
        ),
        "smoke_title": "Smoke benchmark",
        "smoke": (
            "**Smoke benchmark, not a ranking.** The digits runs train a narrow network for a few epochs on "
            "scikit-learn's 1,437 training images of 8 × 8 digits (resized to 32 × 32) and test on 360: "
            "differences of a point or two are noise. They show that every module trains inside a ResNet "
            f"and what it costs. Command: `{render.SMOKE_COMMAND}` (options other than a module's defaults "
            "are named beside it)."
        ),
        "reported": "Results reported by the papers",
        "reported_intro": (
            "As published (or as listed by the seed collection, with its link); settings differ between "
            "papers, so compare within one source."
        ),
        "module": "Module",
        "paper": "Paper",
        "data": "Data",
        "top1": "Top-1 (%)",
        "params": "Params (M)",
        "macs": "MACs (M)",
        "epochs": "Epochs",
        "network": "Network",
        "time": "Time (s)",
        "hardware": "Hardware",
        "date": "Date",
        "model": "Model",
        "dataset": "Dataset",
        "metric": "Metric",
        "value": "Value",
        "gflops": "GFLOPs",
        "source": "Source",
        "none": "(plain network)",
        "failed": "failed",
        "no_results": "No harness results yet: run `python -m scripts evaluate`.",
        "scatter_x": "cost ({unit})",
        "scatter_y": "top-1 accuracy (%)",
        "reported_tag": "reported",
        "harness_tag": "harness",
        "no_points": "(no results)",
    },
    "zh": {
        "harness": "评测工具的结果",
        "harness_intro": (
            "由 `python -m scripts evaluate` 测得：随机初始化的 CIFAR ResNet，模块插入每个残差块（相加之前），"
            "用 SGD 与余弦学习率训练。每次运行的硬件、日期和提交见数据文件。"
        ),
        "smoke_title": "冒烟测试",
        "smoke": (
            "**冒烟测试，不是排名。** digits 结果只用 scikit-learn 自带的 1,437 张 8 × 8 手写数字"
            "（放大到 32 × 32）训练一个窄网络几个 epoch，并在 360 张上测试：一两个点的差别只是噪声。"
            f"它们说明每个模块都能在 ResNet 中训练，以及它的开销。运行命令：`{render.SMOKE_COMMAND}`"
            "（与模块默认值不同的参数标注在模块名旁边）。"
        ),
        "reported": "论文报告的结果",
        "reported_intro": "按论文发表（或按种子列表及其链接）给出；不同论文设置不同，请只在同一来源内比较。",
        "module": "模块",
        "paper": "论文",
        "data": "数据",
        "top1": "Top-1 (%)",
        "params": "参数量 (M)",
        "macs": "MACs (M)",
        "epochs": "轮数",
        "network": "网络",
        "time": "时间 (s)",
        "hardware": "硬件",
        "date": "日期",
        "model": "模型",
        "dataset": "数据集",
        "metric": "指标",
        "value": "数值",
        "gflops": "GFLOPs",
        "source": "出处",
        "none": "（原始网络）",
        "failed": "失败",
        "no_results": "尚无评测结果：运行 `python -m scripts evaluate`。",
        "scatter_x": "开销（{unit}）",
        "scatter_y": "top-1 准确率 (%)",
        "reported_tag": "论文报告",
        "harness_tag": "本项目评测",
        "no_points": "（暂无结果）",
    },
}


def load_results(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """Harness records from result files (each a JSON list written by ``evaluate``)."""
    records: list[dict[str, Any]] = []
    for path in paths:
        records += json.loads(Path(path).read_text(encoding="utf-8"))
    return records


def _num(value: float | int | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _sortable(rows: list[str]) -> str:
    return '<div class="cvattn-sortable" markdown>\n\n' + "\n".join(rows) + "\n\n</div>\n"


def harness_table(catalog: Catalog, results: list[dict[str, Any]], lang: str, depth: int = 1) -> str:
    L = LABELS[lang]
    rows = [
        f"| {L['module']} | {L['paper']} | {L['data']} | {L['network']} | {L['top1']} | {L['params']} | "
        f"{L['macs']} | {L['epochs']} | {L['time']} | {L['hardware']} | {L['date']} |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for r in sorted(results, key=lambda r: (r["config"].get("data", ""), -(r.get("top1") or -1))):
        c = r["config"]
        paper = catalog.paper_of_module(r["module"])
        paper_cell = (
            render.link(render.text(paper.title), render.paper_href(paper, lang, depth)) if paper else "—"
        )
        module = L["none"] if r["module"] == "none" else f"`{r['module']}`"
        options = render.module_options(c)
        if options:  # a run with non-default options says so (e.g. `performer` num_heads=1)
            module += " " + options
        network = f"{c.get('arch', '')} w{c.get('width', '')}"
        hw = r.get("hardware", {})
        machine = (
            render.text(hw.get("gpu") or f"{hw.get('cpu', '?')}, {hw.get('threads', '?')} threads")
            if hw
            else "—"
        )
        top1 = _num(r.get("top1")) if "top1" in r else L["failed"]
        rows.append(
            f"| {module} | {paper_cell} | {c.get('data', '')} | {network} | {top1} | "
            f"{_num(r['params'] / 1e6 if 'params' in r else None, 3)} | {_num(r['macs'] / 1e6 if 'macs' in r else None, 1)} | "
            f"{r.get('epochs', c.get('epochs', '—'))} | {_num(r.get('wall_time_s'), 1)} | {machine} | {r.get('date', '—')[:10]} |"
        )
    return _sortable(rows)


def reported_table(catalog: Catalog, lang: str, depth: int = 1) -> str:
    L = LABELS[lang]
    rows = [
        f"| {L['paper']} | {L['model']} | {L['dataset']} | {L['metric']} | {L['value']} | {L['params']} | "
        f"{L['gflops']} | {L['source']} |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    for paper in catalog.papers:
        for res in paper.results:
            source = render.text(res.source)
            if res.source_url:
                source = render.link(source, res.source_url)
            rows.append(
                f"| {render.link(render.text(paper.title), render.paper_href(paper, lang, depth))} | "
                f"{render.text(res.model)} | {render.text(catalog.dataset_label(res.dataset, lang))} | "
                f"{render.text(catalog.metric_label(res.metric, lang))} | "
                f"{_num(res.value)} | {_num(res.params)} | {_num(res.gflops)} | {source} |"
            )
    return _sortable(rows)


def leaderboard_markdown(catalog: Catalog, results: list[dict[str, Any]], lang: str, depth: int = 1) -> str:
    """The leaderboard body: harness results (digits flagged as a smoke benchmark), then reported results.

    Args:
        catalog: the loaded catalogue (each paper's ``results``).
        results: harness records (``evaluate``'s JSON lists, concatenated).
        lang: ``en`` or ``zh``.
        depth: folders between docs/ and the page, for links to paper pages.
    """
    L = LABELS[lang]
    out = [f"## {L['harness']}\n\n{L['harness_intro']}\n\n"]
    if any(r.get("config", {}).get("data") == "digits" for r in results):
        out.append(f'!!! warning "{L["smoke_title"]}"\n\n    {L["smoke"]}\n\n')
    out.append(harness_table(catalog, results, lang, depth) if results else f"{L['no_results']}\n")
    out.append(f"\n## {L['reported']}\n\n{L['reported_intro']}\n\n")
    out.append(reported_table(catalog, lang, depth))
    return "".join(out)


def place_labels(ax, points: list[tuple[float, float, str]], fontsize: float = 7) -> list:
    """Annotate every point with its label where it overlaps no other label and no point.

    Greedy, in a fixed order (so the figure is byte-identical): for each point, the first free spot among
    eight directions at growing distances; a label pushed away from its point gets a thin leader line. The
    boxes are measured with the figure's renderer, in display coordinates.
    """
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    marks = [ax.transData.transform((x, y)) for x, y, _ in points]
    taken = [(mx - 4, my - 4, mx + 4, my + 4) for mx, my in marks]  # the markers themselves
    directions = [(1, 0.4), (1, -1.2), (-1, 0.4), (-1, -1.2), (0, 1.2), (0, -2.2), (1, 1.4), (-1, 1.4)]
    texts = []
    order = sorted(range(len(points)), key=lambda i: (marks[i][0], marks[i][1], points[i][2]))
    for i in order:
        x, y, label = points[i]
        mx, my = marks[i]
        text = ax.annotate(label, (x, y), fontsize=fontsize, xytext=(4, 2), textcoords="offset points")
        box = text.get_window_extent(renderer)
        w, h = box.width, box.height
        chosen = None
        for radius in (4, 10, 18, 28, 40, 55, 75, 100, 130):
            for dx, dy in directions:
                left = mx + (radius if dx > 0 else -radius - w if dx < 0 else -w / 2)
                bottom = my + dy * h / 1.2 * (1 + radius / 20) - (h / 2 if dx == 0 and dy < 0 else 0)
                candidate = (left, bottom, left + w, bottom + h)
                inside = (
                    frame.x0 <= left
                    and left + w <= frame.x1
                    and frame.y0 <= bottom
                    and bottom + h <= frame.y1
                )
                if inside and not any(_overlap(candidate, t) for t in taken):
                    chosen = candidate
                    break
            if chosen:
                break
        if chosen is None:  # no free spot anywhere near: leave this point unlabelled rather than overprint
            text.remove()
            continue
        offset = (chosen[0] - mx, chosen[1] - my)
        far = abs(offset[0]) > 14 or abs(offset[1]) > 14
        text.remove()
        text = ax.annotate(
            label,
            (x, y),
            fontsize=fontsize,
            xytext=(offset[0] * 72 / fig.dpi, offset[1] * 72 / fig.dpi),
            textcoords="offset points",
            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "#888888", "shrinkA": 0, "shrinkB": 2}
            if far
            else None,
        )
        taken.append(chosen)
        texts.append(text)
    return texts


def _overlap(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float], gap: float = 1.5
) -> bool:
    """Whether two boxes overlap or come closer than ``gap`` pixels."""
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


def scatter_svg(catalog: Catalog, results: list[dict[str, Any]], lang: str = "en") -> str:
    """Accuracy against cost: ImageNet top-1 vs GFLOPs as reported, and harness top-1 vs MACs per data set.

    One panel per group that has points; labels laid out so that none overlaps another (``place_labels``);
    titles and axes in ``lang``; byte-identical for the same input.
    """
    return plot_groups(scatter_groups(catalog, results, lang), lang)


def scatter_groups(
    catalog: Catalog, results: list[dict[str, Any]], lang: str = "en"
) -> dict[str, list[tuple[float, float, str]]]:
    """The points of :func:`scatter_svg`, by panel (``order|title|x unit``): all that its figure depends on
    besides the language, so that the site can reuse a drawn figure while they are unchanged."""
    L = LABELS[lang]
    groups: dict[str, list[tuple[float, float, str]]] = {}
    for paper in catalog.papers:
        for res in paper.results:
            if res.gflops and "top-1" in res.metric.lower():
                dataset = catalog.dataset_label(res.dataset, lang)
                groups.setdefault(f"0|{dataset} ({L['reported_tag']})|GFLOPs", []).append(
                    (res.gflops, res.value, res.model)
                )
    for r in results:
        if r.get("top1") is not None and r.get("macs"):
            c = r["config"]
            key = f"1|{c.get('data')} {c.get('arch')} w{c.get('width')} ({L['harness_tag']})|M MACs"
            groups.setdefault(key, []).append((r["macs"] / 1e6, r["top1"], r["module"]))
    if not groups:
        groups[f"0|{L['no_points']}|-"] = []
    return groups


def plot_groups(groups: dict[str, list[tuple[float, float, str]]], lang: str = "en") -> str:
    """The scatter SVG of :func:`scatter_groups`' panels, titles and axes in ``lang``."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    L = LABELS[lang]
    # Text stays text in the SVG (svg.fonttype none), so the browser draws the Chinese labels with its own
    # CJK font; matplotlib only measures them, with the first of these fonts that it has.
    rc = {
        "svg.hashsalt": "cvattn",
        "svg.fonttype": "none",
        "font.family": ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP"],
    }
    with plt.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"findfont: Font family .* not found", category=UserWarning)
        ordered = sorted(groups.items())
        widths = [1.0 if len(points) < 20 else 2.2 for _, points in ordered]  # crowded panels get room
        fig, axes = plt.subplots(
            1,
            len(ordered),
            figsize=(6.0 * sum(widths), 4.6 if max(map(len, groups.values())) < 20 else 9.0),
            squeeze=False,
            gridspec_kw={"width_ratios": widths},
        )
        for ax, (key, points) in zip(axes[0], ordered, strict=True):
            _, title, unit = key.split("|")
            if points:
                ax.scatter(
                    [x for x, _, _ in points], [y for _, y, _ in points], s=14, color="#3f51b5", zorder=3
                )
                xs, ys = [x for x, _, _ in points], [y for _, y, _ in points]
                if min(xs) > 0 and max(xs) / min(xs) > 20:  # costs over orders of magnitude: a log axis
                    ax.set_xscale("log")
                    ax.set_xlim(min(xs) / 1.6, max(xs) * 3)
                else:
                    pad_x = (max(xs) - min(xs)) * 0.08 or 1
                    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x * 2.5)
                pad_y = (max(ys) - min(ys)) * 0.08 or 1
                ax.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel(L["scatter_x"].format(unit=unit), fontsize=8)
            ax.set_ylabel(L["scatter_y"], fontsize=8)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        for ax, (_, points) in zip(axes[0], ordered, strict=True):
            place_labels(ax, points)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    return buf.getvalue()
