"""The cost plots of the built site speak the page's language: a zh page's figures are the zh ones."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scripts.catalog import load
from scripts.costs import PLOT_LABELS

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("site")]

LANG_PREFIX = {"en": "", "zh": "zh/"}


def _figure(page: Path, name: str) -> str:
    """The text of the SVG that ``page`` shows as its image ``name`` (resolved as the browser does)."""
    html = page.read_text(encoding="utf-8")
    sources = [s for s in re.findall(r'<img[^>]+src="([^"]+)"', html) if s.endswith(name)]
    assert len(sources) == 1, (page, name, sources)
    svg = (page.parent / sources[0]).resolve()
    assert svg.is_file(), (page, sources[0])
    return " ".join(t.strip() for t in ET.parse(svg).getroot().itertext() if t.strip())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_module_page_and_modules_table_show_the_plots_of_their_language(site, lang):
    paper = load()[0].paper_of_module("se")
    other = PLOT_LABELS["zh" if lang == "en" else "en"]
    figures = (
        (site / f"{LANG_PREFIX[lang]}catalog/papers/{paper.id}/index.html", "scaling/se.svg", "flops"),
        (site / f"{LANG_PREFIX[lang]}catalog/modules/index.html", "modules-cost.svg", "bars_flops"),
    )
    for page, name, axis in figures:
        text = _figure(page, name)
        assert PLOT_LABELS[lang][axis] in text and PLOT_LABELS[lang]["total"] in text, (page, name)
        assert other[axis] not in text and other["total"] not in text, (page, name)


def test_zh_module_page_labels_its_cost_rows_in_chinese(site):
    paper = load()[0].paper_of_module("se")
    html = (site / f"zh/catalog/papers/{paper.id}/index.html").read_text(encoding="utf-8")
    for label in ("FLOPs（卷积/矩阵乘）", "FLOPs（逐元素运算）", "FLOPs（合计）", "MACs（卷积/矩阵乘）"):
        assert label in html, label
    en = (site / f"catalog/papers/{paper.id}/index.html").read_text(encoding="utf-8")
    for label in ("FLOPs, conv/matmul", "FLOPs, element-wise", "FLOPs, total"):
        assert label in en and label not in html, label
