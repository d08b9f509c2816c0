"""The parity verdicts on the site: a badge and a paragraph per module, and the Verification page.

The verdicts come from ``docs/data/parity.json`` (written by ``python -m scripts parity status --write``, which
runs every fixture); the reasons of modules without a fixture come from the catalogue itself. Nothing here
imports torch.
"""

from __future__ import annotations

from typing import Any

from . import render
from .catalog import Catalog
from .parity import STATUSES, module_status

TITLE = {"en": "Verification", "zh": "正确性验证"}
LABELS = {
    "en": {
        "parity": "Parity",
        "fixture": "fixture",
        "max_diff": "max |diff|",
        "modes": "modes",
        "deviation": "Documented deviation",
        "no_fixture_yet": "no fixture recorded yet",
        "paper_text": "The paper has no official code; the module's tests check it against the paper's equations.",
        "module": "Module",
        "paper": "Paper",
        "verdict": "Verdict",
        "official": "Official code",
        "notes": "Notes",
        "count": "Modules",
        "all": "All",
        "eval": "eval",
        "train": "train",
        "intro": (
            "Every module of `cvattn` is checked against the paper's official implementation wherever that "
            "implementation runs here. A *parity fixture* (`tests/parity/fixtures/<id>.pt`) is recorded once by "
            "`python -m scripts parity record ID --official DIR` from a checkout of the official repository: "
            "the official class gets random weights and normalisation statistics, which an explicit name map "
            "renames to ours; it runs in float64 on small inputs (one of them non-square) in eval and in train "
            "mode, and the fixture stores the weights, inputs, outputs, input gradients and the running "
            "statistics after the training step, with the repository, commit, file, class and any patch needed "
            "to import it on CPU. The official code itself is never copied. The test suite loads every fixture "
            "into the cvattn module and requires every output, gradient and statistic to agree within "
            "1e-6 (float64). A configuration recorded as a documented deviation must really differ, so the "
            "documentation cannot go stale. `python -m scripts parity status` prints this table."
        ),
        "legend": {
            "match": "the fixture matches in every configuration.",
            "documented": "the fixture matches except for the deviation its module's docstring documents; "
            "that configuration is recorded and asserted to differ.",
            "paper": "the paper has no official code; the module's own tests check it against an independent "
            "implementation of the paper's equations.",
            "not-runnable": "the official code exists but cannot run here (another framework, CUDA-only "
            "operators, or model code that was never released); the entry says why, and the module's tests "
            "check it against the paper's equations.",
        },
        "measured": "max |diff| measured with torch",
    },
    "zh": {
        "parity": "一致性",
        "fixture": "对照数据",
        "max_diff": "最大绝对误差",
        "modes": "模式",
        "deviation": "已说明的差异",
        "no_fixture_yet": "尚未录制对照数据",
        "paper_text": "论文没有官方代码；本模块的测试依据论文公式逐项核对。",
        "module": "模块",
        "paper": "论文",
        "verdict": "结论",
        "official": "官方代码",
        "notes": "说明",
        "count": "模块数",
        "all": "合计",
        "eval": "eval",
        "train": "train",
        "intro": (
            "只要论文的官方实现能在这里运行，`cvattn` 的每个模块都会与它逐项对照。*一致性对照数据*"
            "（`tests/parity/fixtures/<id>.pt`）由 `python -m scripts parity record ID --official DIR` "
            "从官方仓库的本地副本录制一次：官方类使用随机初始化的权重与归一化统计量，并通过显式的参数名映射"
            "换成我们的参数名；在 float64 精度下、以较小的输入（其中至少一个非正方形）分别在 eval 与 train "
            "模式下运行，保存权重、输入、输出、输入梯度以及训练一步之后的滑动统计量，同时记录仓库、commit、"
            "文件、类名以及在 CPU 上导入所需的补丁。官方代码本身从不复制进本项目。测试会把每份对照数据载入 "
            "cvattn 模块，要求所有输出、梯度与统计量的差异都不超过 1e-6（float64）。被记录为“已说明差异”"
            "的配置必须确实与官方结果不同，这样文档就不会过时。`python -m scripts parity status` 会打印下表。"
        ),
        "legend": {
            "match": "对照数据在所有配置下都一致。",
            "documented": "除模块文档字符串中已说明的差异外完全一致；存在差异的配置同样被录制，并由测试断言其确实不同。",
            "paper": "论文没有官方代码；模块自身的测试依据论文公式，用独立实现逐项核对。",
            "not-runnable": "官方代码存在，但无法在这里运行（其他框架、只有 CUDA 的算子，或模型代码从未公开）；"
            "条目中写明了原因，模块的测试依据论文公式核对。",
        },
        "measured": "最大绝对误差的测量环境：torch",
    },
}
ICONS = {"match": "✔", "documented": "✔", "paper": "∑", "not-runnable": "–"}


def verdicts(catalog: Catalog, data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every module's verdict: the stored record (with the numbers) where it has a fixture, else what the
    catalogue says (its parity_note, or no official code)."""
    out = module_status(catalog)
    for module_id, entry in out.items():
        stored = data.get("modules", {}).get(module_id)
        if entry["status"] == "match" and stored and "commit" in stored:
            out[module_id] = stored
    return out


def _repo_at(entry: dict[str, Any]) -> str:
    repo = entry["repo"].removeprefix("https://github.com/")
    return render.link(f"{render.text(repo)}@{entry['commit'][:7]}", f"{entry['repo']}/tree/{entry['commit']}")


def _modes(entry: dict[str, Any], lang: str) -> str:
    return ", ".join(LABELS[lang][m] for m in entry.get("modes", []))


def badge(module_id: str, entry: dict[str, Any], lang: str, href: str) -> str:
    status = entry["status"]
    label = STATUSES[status][lang]
    return f'[{ICONS[status]} {label}]({href}#m-{module_id}){{ .cvattn-parity .cvattn-parity--{status} }}'


def module_paragraph(module_id: str, entry: dict[str, Any], lang: str) -> str:
    """The badge and what stands behind it, shown under a module's heading on its paper page."""
    L = LABELS[lang]
    out = f"**{L['parity']}:** {badge(module_id, entry, lang, '../verification.md')}"
    status = entry["status"]
    if status in ("match", "documented") and "commit" in entry:
        code = render.text(f"{entry['file']}")
        out += (
            f" — {_repo_at(entry)}, `{code}` `{render.text(entry['cls'])}`; {L['max_diff']} "
            f"{entry.get('max_diff', 0.0):.1e} ({_modes(entry, lang)}); {L['fixture']} "
            f"`tests/parity/fixtures/{module_id}.pt`"
        )
        if status == "documented":
            out += f"\n\n*{L['deviation']}:* {render.text(entry['deviation'])}"
    elif status == "paper":
        out += " — " + L["paper_text"]
    elif entry.get("reason"):
        out += " — " + render.text(entry["reason"][lang])
    return out + "\n\n"


def page(catalog: Catalog, data: dict[str, Any], lang: str) -> str:
    L = LABELS[lang]
    table = verdicts(catalog, data)
    out = [render._front(TITLE[lang]), f"# {TITLE[lang]}\n\n{L['intro']}\n\n"]
    out.append(f"| {L['verdict']} | {L['count']} |\n| --- | --- |\n")
    for status, names in STATUSES.items():
        n = sum(e["status"] == status for e in table.values())
        out.append(f"| {ICONS[status]} {names[lang]}: {L['legend'][status]} | {n} |\n")
    out.append(f"| **{L['all']}** | **{len(table)}** |\n\n")
    out.append('<div class="cvattn-sortable" markdown>\n\n')
    out.append(
        f"| {L['module']} | {L['verdict']} | {L['official']} | {L['max_diff']} | {L['modes']} | {L['notes']} | "
        f"{L['paper']} |\n| --- | --- | --- | --- | --- | --- | --- |\n"
    )
    for module_id, e in sorted(table.items()):
        status = e["status"]
        has_fixture = "commit" in e
        official = _repo_at(e) + f" `{render.text(e['file'])}`" if has_fixture else (
            render.link(render.text(e["code"].removeprefix("https://github.com/")), e["code"]) if e.get("code") else "—"
        )
        diff = f"{e['max_diff']:.1e}" if "max_diff" in e else "—"
        note = e.get("deviation") or ((e.get("reason") or {}).get(lang, "") if status == "not-runnable" else "")
        paper = render.link(render.text(e["paper"]), f"papers/{e['paper']}.md")
        out.append(
            f'| <span id="m-{module_id}"></span>`{module_id}` | {ICONS[status]} {STATUSES[status][lang]} | '
            f"{official} | {diff} | {_modes(e, lang) or '—'} | {render.text(note) or '—'} | {paper} |\n"
        )
    out.append("\n</div>\n")
    if data.get("torch"):
        out.append(f"\n*{L['measured']} {render.text(data['torch'])}, float64.*\n")
    return "".join(out)


def counts(catalog: Catalog, data: dict[str, Any]) -> dict[str, int]:
    table = verdicts(catalog, data)
    return {status: sum(e["status"] == status for e in table.values()) for status in STATUSES}


def readme_counts(catalog: Catalog, data: dict[str, Any]) -> str:
    """The README's line: how many modules have each verdict."""
    n = counts(catalog, data)
    return (
        f"**Checked against the official code** (`python -m scripts parity status`; the site's Verification page "
        f"lists every module): {n['match']} modules match the official implementation, {n['documented']} match "
        f"except where their docstring documents a deviation, {n['paper']} have no official code and are checked "
        f"against the paper's equations, and {n['not-runnable']} have official code that cannot run here "
        f"(Caffe, TensorFlow, CUDA-only operators or unreleased model code; each entry says why).\n"
    )
