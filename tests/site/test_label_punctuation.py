"""Labels before a value end with the page's colon: ":" in English, the full-width "：" in Chinese (rendered
pages, no site build)."""

from __future__ import annotations

import re

import pytest

from scripts import render
from scripts.registry_scan import CodeInfo

METADATA = ("authors", "venue", "category", "tags")
LINKS = ("paper_page", "arxiv", "official_code", "implementations")


def _metadata(page: str) -> str:
    """The metadata lines between the page's title and its first section."""
    return page.split("\n# ", 1)[1].split("\n## ", 1)[0]


def test_bold_labels_end_with_the_colon_of_the_language():
    assert render.bold_label("Authors", "en") == "**Authors:** "
    assert render.bold_label("作者", "zh") == "**作者**："
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        render.bold_label("Auteurs", "fr")


def test_paper_pages_use_the_colon_of_their_language(catalog, pages):
    checked = 0
    for paper in catalog.papers:
        en, zh = pages[f"catalog/papers/{paper.id}.md"], pages[f"catalog/papers/{paper.id}.zh.md"]
        keys = METADATA if paper.tags else METADATA[:-1]
        for key in keys:
            assert f"**{render.LABELS['en'][key]}:** " in _metadata(en), (paper.id, key)
            assert f"**{render.LABELS['zh'][key]}**：" in _metadata(zh), (paper.id, key)
        # no ASCII colon after a label anywhere in the zh metadata (inside or after the bold)
        assert not re.search(r":\*\*|\*\*:", _metadata(zh)), paper.id
        shown = {"arxiv": bool(paper.links.arxiv), "implementations": bool(paper.links.implementations)}
        for key in (key for key in LINKS if shown.get(key, True)):
            zh_label, en_label = render.LABELS["zh"][key], render.LABELS["en"][key]
            assert f"\n- {zh_label}：" in zh and f"\n- {zh_label}: " not in zh, (paper.id, key)
            assert f"\n- {en_label}: " in en, (paper.id, key)
        checked += 1
    assert checked == len(catalog.papers) > 100
    se = pages["catalog/papers/se.zh.md"]
    assert "**标签**：通道注意力、门控、全局平均池化" in se and "**作者**：Jie Hu" in se


def test_get_code_labels_use_the_colon_of_their_language(catalog):
    paper = catalog.paper_of_module("se")
    code = {m: CodeInfo(f"modules/cvattn/attention/{m}.py", None, "") for m in paper.modules}
    api_paths = {m: f"cvattn.{m}" for m in paper.modules}
    en, zh = (render.module_section(paper, lang, api_paths, {}, code=code) for lang in ("en", "zh"))
    for key in ("get_code", "source_file"):
        assert f"**{render.LABELS['zh'][key]}**：" in zh and f"**{render.LABELS['zh'][key]}**:" not in zh, key
        assert f"**{render.LABELS['en'][key]}**: " in en, key


def test_zh_gallery_labels_use_the_full_width_colon(catalog):
    from scripts import site

    zh, en = site.gallery_page(catalog, "zh"), site.gallery_page(catalog, "en")
    assert zh.count("\n论文：[") == en.count("\nPaper: [") > 10
    assert "论文: " not in zh and not re.search(r"\*\*[^*\n]+\*\*:|:\*\*", zh)
