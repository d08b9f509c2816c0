"""Titles with superscripts and blog-link labels, as every generated page and the README show them."""

from __future__ import annotations

import re

import pytest

from scripts import render
from scripts.catalog import Blog, Paper, load_or_raise

# A link to a paper's page or to its paper link, in tables, lists and headings: [label](target)
_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(([^)\s]+)\)")
_FRONT_TITLE = re.compile(r"^title: (.*)$", re.M)
_HEADING = re.compile(r"^#{1,6} (.*)$", re.M)


@pytest.fixture(scope="module")
def catalog():
    return load_or_raise(check_parity_notes=False)


@pytest.fixture(scope="module")
def pages(catalog):
    # the module sections need a class path per module; the titles and blogs do not depend on it
    api_paths = {m: f"cvattn.attention.{m}.Module" for p in catalog.papers for m in p.modules}
    out = render.site_pages(catalog, api_paths=api_paths)
    out["README.md"] = render.readme_list(catalog)
    return {k: v for k, v in out.items() if k.endswith(".md")}


def _title_texts(page: str, catalog) -> list[str]:
    """Every place a page shows a paper title: front matter, headings, and the labels of links to a paper."""
    out = _FRONT_TITLE.findall(page) + _HEADING.findall(page)
    targets = {f"papers/{p.id}.md" for p in catalog.papers} | {p.links.paper for p in catalog.papers}
    out += [label for label, target in _LINK.findall(page) if any(target.endswith(t) for t in targets)]
    return out


def test_no_page_shows_a_caret_in_a_title(catalog, pages):
    shown = {path: _title_texts(text, catalog) for path, text in pages.items()}
    assert sum(map(len, shown.values())) > 2 * len(catalog.papers)  # the extraction finds the titles
    carets = [(path, t) for path, texts in shown.items() for t in texts if "^" in t]
    assert carets == []


@pytest.mark.parametrize("lang", render.LANGS)
def test_ba2m_shows_a_superscript_everywhere(pages, lang):
    page = pages[f"catalog/papers/ba2m{render.suffix(lang)}.md"]
    assert 'title: "BA²M: A Batch Aware Attention Module for Image Classification"' in page
    assert "\n# BA²M: A Batch Aware Attention Module for Image Classification\n" in page
    listing = pages[f"catalog/all{render.suffix(lang)}.md"]
    assert (
        "[BA²M: A Batch Aware Attention Module for Image Classification](../catalog/papers/ba2m.md)"
        in listing
    )
    assert "[A²-Nets: Double Attention Networks](../catalog/papers/a2net.md)" in listing


def test_bibtex_keeps_the_latex_form(catalog):
    bib = render.bibtex(catalog)
    assert "title = {{BA$^{2}$M: A Batch Aware Attention Module for Image Classification}}" in bib
    assert "title = {{A$^{2}$-Nets: Double Attention Networks}}" in bib
    assert "²" not in bib and "A^2" not in bib


def test_bib_title_converts_every_superscript():
    assert render.bib_title("X³ and Y⁽ⁿ⁺¹⁾") == "X$^{3}$ and Y$^{(n+1)}$"
    assert render.bib_title("No superscript") == "No superscript"


def _blog_labels_in(page: str, blog_urls: set[str]) -> list[list[str]]:
    """Blog link labels of a page, grouped by line (a table cell or a list item)."""
    groups = []
    for line in page.splitlines():
        labels = [label for label, target in _LINK.findall(line) if target in blog_urls]
        if labels:
            groups.append(labels)
    return groups


def test_no_blog_link_shows_a_doubled_label(catalog, pages):
    blog_urls = {render.url(b.url) for p in catalog.papers for b in p.links.blogs}
    site_words = {"zhihu", "wechat", "blog", "other", "知乎", "微信", "博客"}
    found = 0
    for path, page in pages.items():
        for labels in _blog_labels_in(page, blog_urls):
            found += len(labels)
            assert len(set(labels)) == len(labels), (path, labels)  # two links never read alike
            for label in labels:
                words = label.lower().split()
                assert label.strip().lower() not in site_words, (path, label)
                assert all(a != b for a, b in zip(words, words[1:], strict=False)), (path, label)
    assert found >= 2 * sum(len(p.links.blogs) for p in catalog.papers)  # en and zh pages at least


def test_blog_title_shows_and_untitled_posts_are_told_apart(catalog):
    base = catalog.by_id["hrnet"]
    paper = base.model_copy(
        update={
            "links": base.links.model_copy(
                update={
                    "blogs": [
                        Blog(url="https://mp.weixin.qq.com/s/a", lang="zh", site="wechat"),
                        Blog(url="https://mp.weixin.qq.com/s/b", lang="zh", site="wechat"),
                        Blog(url="https://example.org/post", lang="en", title="How the streams exchange"),
                        Blog(url="https://zhuanlan.zhihu.com/p/1", lang="zh", site="zhihu"),
                    ]
                }
            )
        }
    )
    assert render.blog_labels(paper, "en") == [
        r"WeChat article 1 \(Chinese\)",
        r"WeChat article 2 \(Chinese\)",
        "How the streams exchange",
        r"Zhihu article \(Chinese\)",
    ]
    assert render.blog_labels(paper, "zh") == [
        "微信公众号文章 1",
        "微信公众号文章 2",
        "How the streams exchange",
        "知乎文章",
    ]
    page = render.page_paper(catalog, paper, "zh", api_paths={})
    assert "[How the streams exchange](https://example.org/post)（博客，英文）" in page
    assert "[知乎文章](https://zhuanlan.zhihu.com/p/1)\n" in page  # no "(zhihu, zh)" after it


def test_validator_rejects_a_caret_and_a_site_name_as_title(catalog):
    data = catalog.by_id["ba2m"].model_dump(mode="json")
    with pytest.raises(ValueError, match="superscript as a character"):
        Paper.model_validate({**data, "title": "BA^2M: A Batch Aware Attention Module"})
    with pytest.raises(ValueError, match="only names the site"):
        Blog(url="https://mp.weixin.qq.com/s/x", lang="zh", site="wechat", title="WeChat")
