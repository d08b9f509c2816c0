"""Entry text is data: HTML and javascript: links in it render as inert text (site and README)."""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import markdown
import pytest

from scripts import render
from scripts.catalog import load
from tests.catalog.test_validator import GOOD, make_catalog

HOSTILE = {
    "title": "Attention <script>alert(1)</script> Networks",
    "idea_en": '<img src=x onerror="alert(2)"> idea',
    "summary_en": "Click [here](javascript:alert(3)) or <a href='javascript:alert(4)'>there</a>.",
}


@pytest.fixture
def hostile_catalog(tmp_path):
    text = (
        GOOD.replace("A Good Paper About Attention", f'"{HOSTILE["title"]}"')
        .replace("  en: One line.", f"  en: '{HOSTILE['idea_en']}'")
        .replace("  en: Two sentences. Really.", f'  en: "{HOSTILE["summary_en"]}"')
    )
    catalog, problems = load(
        make_catalog(tmp_path, {"good.yaml": text}),
        modules=["se"],
        fixtures={"se"},
        today=datetime.date(2026, 1, 1),
    )
    assert problems == []
    return catalog


def to_html(md: str) -> str:
    return markdown.markdown(md, extensions=["tables", "attr_list", "md_in_html", "fenced_code"])


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def assert_inert(html: str):
    """No element that runs code: no script/img/iframe, no on* attribute, no javascript: URL."""
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag not in ("script", "iframe", "object", "embed"), (tag, attrs)
        if tag == "img":  # only the site's own generated figures
            assert re.fullmatch(
                r"(\.\./)?(diagrams|scaling)/[a-z0-9-]+\.svg|modules-cost\.svg", attrs.get("src", "")
            ), attrs
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src"):
            assert not (attrs.get(name) or "").strip().lower().startswith("javascript:"), (tag, attrs)


def test_site_pages_render_hostile_text_inert(hostile_catalog):
    pages = render.site_pages(hostile_catalog, api_paths={"se": "cvattn.attention.se.SqueezeExcitation"})
    for name, content in pages.items():
        if name.endswith(".md"):
            assert_inert(to_html(content.split("---\n", 2)[-1]))
    paper_page = to_html(pages["catalog/papers/good.md"].split("---\n", 2)[-1])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in paper_page  # shown, as text


def test_readme_renders_hostile_text_inert(hostile_catalog):
    html = to_html(render.readme_list(hostile_catalog))
    assert_inert(html)
    assert "alert(1)" in html
