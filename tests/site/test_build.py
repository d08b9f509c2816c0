"""The site builds strictly, in both languages, byte-identically, from the real catalogue."""

from __future__ import annotations

import filecmp
import json
import time
from pathlib import Path

import pytest

from scripts.catalog import load
from tests.site.conftest import build_site

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("site")]


def pages(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("index.html")}


def test_every_english_page_has_a_chinese_twin(site):
    all_pages = pages(site)
    english = {p for p in all_pages if not p.startswith("zh/")}
    chinese = {p.removeprefix("zh/") for p in all_pages if p.startswith("zh/")}
    assert english == chinese
    catalog, _ = load()
    for paper in catalog.papers:
        assert f"catalog/papers/{paper.id}/index.html" in english


def test_home_shows_counts_and_language_switch(site):
    catalog, _ = load()
    home = (site / "index.html").read_text(encoding="utf-8")
    assert f"<strong>{len(catalog.papers)}</strong>" in home
    zh_home = (site / "zh" / "index.html").read_text(encoding="utf-8")
    assert "收录概况" in zh_home and 'hreflang="zh"' in home
    # the switcher on a paper page points to the same paper in the other language
    paper = (site / "catalog/papers/se/index.html").read_text(encoding="utf-8")
    assert 'href="/cvattn/zh/catalog/papers/se/"' in paper or "zh/catalog/papers/se/" in paper


def test_exports_are_published(site):
    assert (site / "catalog" / "catalog.bib").read_text(encoding="utf-8").startswith("@")
    assert (site / "catalog" / "catalog.json").stat().st_size > 1000


def test_the_api_inventory_points_at_the_english_pages(site):
    """objects.inv (mkdocstrings' inventory, for intersphinx and mkdocstrings users elsewhere) lists every module
    class at its English page: each language build writes it, and the last (zh) one used to win."""
    import zlib

    head, _, body = (site / "objects.inv").read_bytes().partition(b"compressed using zlib.\n")
    assert head.startswith(b"# Sphinx inventory version 2")
    lines = zlib.decompress(body).decode("utf-8").splitlines()
    assert len(lines) > 200
    for line in lines:
        name, _domain, _prio, uri = line.split(" ")[:4]
        page = uri.split("#")[0]
        assert not page.startswith("zh/"), line
        assert (site / page / "index.html").is_file(), line
        assert name.startswith("cvattn."), line


def test_chinese_search_index_is_segmented(site):
    docs = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    zh_docs = json.loads((site / "zh" / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    zh_text = " ".join(d["title"] + d["text"] for d in zh_docs)  # one index per language (hooks/search.py)
    assert "通道" in zh_text and "\u200b" in zh_text  # jieba cut the Chinese into words
    en_titles = {d["title"] for d in docs if d["location"].startswith("catalog/papers/")}
    assert "Squeeze-and-Excitation Networks" in en_titles


def test_two_builds_are_byte_identical(site, tmp_path):
    second = tmp_path / "site2"
    build_site(second)
    files = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(site, second, files, shallow=False)
    assert not mismatch and not errors, mismatch[:10]


def test_offline_link_check_of_the_whole_site(site):
    """Every internal link and #fragment resolves, in both languages (what `scripts links` does in CI)."""
    from urllib.parse import urlsplit

    from scripts import links
    from scripts.__main__ import _site_url

    start = time.perf_counter()
    problems = links.check_site_offline(site, urlsplit(_site_url()).path.strip("/"))
    elapsed = time.perf_counter() - start
    assert problems == [], "\n".join(map(str, problems[:20]))
    assert elapsed < 30


def test_every_source_page_has_a_chinese_source():
    """Fallback to English is on only so that zh pages can use shared assets: no page may rely on it."""
    from scripts import render
    from scripts.catalog import ROOT

    docs = ROOT / "docs"
    english = [
        p
        for p in docs.rglob("*.md")
        if not p.name.endswith(".zh.md") and render.GENERATED_DIR not in p.relative_to(docs).parts[:1]
    ]
    missing = [p.relative_to(docs).as_posix() for p in english if not p.with_name(p.stem + ".zh.md").exists()]
    assert not missing, f"pages without a Chinese twin: {missing}"


def test_module_pages_show_their_parity_verdict_and_the_verification_page_lists_all(site):
    """Every module shows a badge linking to its row of the Verification page, in both languages."""
    import re

    from scripts import parity
    from scripts.verification import verdicts

    catalog, _ = load()
    table = verdicts(catalog, parity.load_data())
    for lang, prefix in (("en", ""), ("zh", "zh/")):
        page = (site / prefix / "catalog/verification/index.html").read_text(encoding="utf-8")
        for module_id, entry in table.items():
            assert f'id="m-{module_id}"' in page
            label = parity.STATUSES[entry["status"]][lang]
            paper = (site / prefix / f"catalog/papers/{entry['paper']}/index.html").read_text(
                encoding="utf-8"
            )
            badge = re.search(
                rf'<a class="cvattn-parity [^"]*" href="([^"]*#m-{re.escape(module_id)})">[^<]*{label}', paper
            )
            assert badge, f"{lang} page of {entry['paper']} has no verdict badge for {module_id}"
            assert badge.group(1).startswith("../../verification/")
    cbam = (site / "catalog/papers/cbam/index.html").read_text(encoding="utf-8")
    assert "Jongchan/attention-module@" in cbam and "tests/parity/fixtures/cbam.pt" in cbam
    bam = (site / "zh/catalog/papers/bam/index.html").read_text(encoding="utf-8")
    assert "除已说明之处外与官方代码一致" in bam and "已说明的差异" in bam


def test_the_benchmarks_page_lists_every_pair_of_the_data_with_its_alignment(site):
    """Every pair of docs/data/bench.json has its section (anchor, alignment) and a row of ratios, in both
    languages; the page says what a ratio means."""
    import html
    import re

    from scripts.bench_page import anchor, load_bench

    data = load_bench()
    assert data.get("pairs"), "docs/data/bench.json has no pairs: run ./dev bench"

    def plain(markup: str) -> str:
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())

    for lang, prefix in (("en", ""), ("zh", "zh/")):
        page = (site / prefix / "catalog/benchmarks/index.html").read_text(encoding="utf-8")
        text = plain(page)
        assert ("Below 1 means cvattn is faster" if lang == "en" else "小于 1 表示 cvattn 更快") in text
        for key, entry in data["pairs"].items():
            assert f'id="{anchor(key)}"' in page and f'href="#{anchor(key)}"' in page, key
            assert " ".join(entry["alignment"][lang].split()) in text, key
