"""Chinese pages write tags and result labels in Chinese (catalog/tags.yaml, catalog/metrics.yaml); English
pages keep the catalogue's own terms."""

from __future__ import annotations

import re

from scripts import leaderboard, render


def tags_of(page: str, label: str) -> list[str]:
    """The tags a page's metadata line lists after its bold label (``**Tags:** ``, ``**标签**：``)."""
    match = re.search(rf"\*\*{label}(?::\*\* |\*\*：)(.+)$", page, re.M)
    assert match, f"no {label} line"
    return re.split(r"、|, ", match.group(1))


def results_rows(page: str, heading: str) -> list[list[str]]:
    section = page.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[2:]]  # without the header and its rule


def test_zh_paper_pages_show_chinese_tags_and_no_english_tag(catalog, pages):
    zh = {t.en: t.zh for t in catalog.tags}
    checked = 0
    for paper in catalog.papers:
        if not paper.tags:
            continue
        shown = tags_of(pages[f"catalog/papers/{paper.id}.zh.md"], "标签")
        assert shown == [render.text(zh[t]) for t in paper.tags], paper.id
        english = {render.text(t) for t in paper.tags if zh[t] != t}
        assert not english & set(shown), (paper.id, english & set(shown))
        assert tags_of(pages[f"catalog/papers/{paper.id}.md"], "Tags") == [render.text(t) for t in paper.tags]
        checked += 1
    assert checked >= 100
    se = pages["catalog/papers/se.zh.md"]
    assert "**标签**：通道注意力、门控、全局平均池化" in se


def test_zh_paper_pages_show_chinese_result_labels(catalog, pages):
    metric_zh = {t.en: t.zh for t in catalog.metrics}
    dataset_zh = {t.en: t.zh for t in catalog.datasets}
    with_results = [p for p in catalog.papers if p.results]
    assert len(with_results) >= 10
    for paper in with_results:
        zh_rows = results_rows(pages[f"catalog/papers/{paper.id}.zh.md"], render.LABELS["zh"]["results"])
        en_rows = results_rows(pages[f"catalog/papers/{paper.id}.md"], render.LABELS["en"]["results"])
        assert [(r[0], r[2]) for r in zh_rows] == [
            (render.text(dataset_zh[r.dataset]), render.text(metric_zh[r.metric])) for r in paper.results
        ]
        assert [(r[0], r[2]) for r in en_rows] == [
            (render.text(r.dataset), render.text(r.metric)) for r in paper.results
        ]
    se = pages["catalog/papers/se.zh.md"]
    assert "| ImageNet | SE-ResNet-50 | top-1 准确率 | 76.71 |" in se
    assert "top-1 accuracy" not in se
    # the source column is where the number comes from, not the module's source code
    assert "| 数据集 | 模型 | 指标 | 数值 | 参数量 (M) | GFLOPs | 出处 |" in se


def test_zh_leaderboard_shows_chinese_metrics(catalog):
    zh = leaderboard.reported_table(catalog, "zh")
    en = leaderboard.reported_table(catalog, "en")
    assert "top-1 准确率" in zh and "top-1 accuracy" not in zh and "边界框 AP" in zh
    assert "top-1 accuracy" in en and "准确率" not in en
    rows = [line for line in zh.splitlines() if line.startswith("| [")]
    assert len(rows) == sum(len(p.results) for p in catalog.papers)
