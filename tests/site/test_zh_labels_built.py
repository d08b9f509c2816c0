"""The built Chinese site writes tags and result labels in Chinese (the strict build of conftest's ``site``)."""

from __future__ import annotations

import html
import re

from scripts.catalog import load


def _text(page: str) -> str:
    """The article's text without markup (entities decoded), one space between words."""
    article = page.split("<article", 1)[1].split("</article>", 1)[0]
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", article)))


def _tags_line(text: str, label: str, next_heading: str) -> str:
    return re.split(rf"{label}\s*[:：]", text, maxsplit=1)[1].split(next_heading, 1)[0].strip()


def test_zh_paper_pages_show_chinese_tags_and_result_labels(site):
    catalog = load()[0]
    tags = {t.en: t.zh for t in catalog.tags}
    metrics = {t.en: t.zh for t in catalog.metrics}
    checked = 0
    for paper in catalog.papers:
        if not paper.tags:
            continue
        zh = _text((site / f"zh/catalog/papers/{paper.id}/index.html").read_text(encoding="utf-8"))
        en = _text((site / f"catalog/papers/{paper.id}/index.html").read_text(encoding="utf-8"))
        shown = _tags_line(zh, "标签", "核心思想").split("、")
        assert shown == [tags[t] for t in paper.tags], paper.id
        assert not {t for t in paper.tags if tags[t] != t} & set(shown), paper.id
        assert _tags_line(en, "Tags", "Idea").split(", ") == list(paper.tags), paper.id
        if paper.results:
            results = zh.split("论文报告的结果", 1)[1].split("链接", 1)[0]
            for result in paper.results:
                assert metrics[result.metric] in results, (paper.id, result.metric)
                if metrics[result.metric] != result.metric:
                    assert f" {result.metric} " not in results, (paper.id, result.metric)
        checked += 1
    assert checked == sum(bool(p.tags) for p in catalog.papers) > 100


def test_zh_leaderboard_shows_chinese_metrics(site):
    board = _text((site / "zh/catalog/leaderboard/index.html").read_text(encoding="utf-8"))
    assert "top-1 准确率" in board and "top-1 accuracy" not in board
