"""The built site in a real browser: Debian's Chromium driven by Playwright, on 127.0.0.1.

Chromium comes from the set-up (`apt-get install chromium`); the test never downloads a browser.
A failing test leaves a screenshot in test-artifacts/ (kept by CI).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from scripts.catalog import CATALOG_DIR, ROOT, load
from tests.catalog.test_validator import GOOD, make_catalog
from tests.site.conftest import ARTIFACTS, build_site

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("site")]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: ./dev setup installs it (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def url(site, serve, tmp_path_factory):
    return serve(site, tmp_path_factory.mktemp("root"))


def test_home_renders_with_counts(page, url):
    catalog, _ = load()
    page.goto(url)
    assert "cvattn" in page.title()
    total = page.locator("table").first.locator("strong").last
    assert total.inner_text() == str(len(catalog.papers))
    channel = sum(p.category == "channel" for p in catalog.papers)
    assert (
        page.get_by_role("row", name=re.compile(r"Channel attention"))
        .first.inner_text()
        .strip()
        .endswith(str(channel))
    )


def test_all_papers_table_sorts(page, url):
    page.goto(url + "catalog/all/")
    header = page.locator(".cvattn-sortable th", has_text="Year")

    def years():
        return [int(t) for t in page.locator(".cvattn-sortable tbody tr td:nth-child(3)").all_inner_texts()]

    header.click()
    ascending = years()
    assert ascending == sorted(ascending) and len(ascending) > 1
    header.click()
    assert years() == sorted(ascending, reverse=True)
    page.locator(".cvattn-sortable th", has_text="Paper").click()
    titles = page.locator(".cvattn-sortable tbody tr td:nth-child(1)").all_inner_texts()
    # the browser collates by locale: a superscript sorts as its digit (A²-Nets as A2-Nets, before ACNet)
    import unicodedata

    assert titles == sorted(titles, key=lambda t: unicodedata.normalize("NFKC", t).casefold())


def _column(page, index: int) -> list[str]:
    return page.locator(f".cvattn-sortable tbody tr td:nth-child({index})").all_inner_texts()


def test_numeric_columns_sort_by_value(page, url):
    # "4,208" and "28,901,376" must sort as numbers, not as text ("28,901,376" < "4,208")
    page.goto(url + "catalog/modules/")
    for name, index in (("Parameters", 5), ("FLOPs, conv/matmul", 6), ("FLOPs, total", 7)):
        header = page.locator(".cvattn-sortable th", has_text=name)
        header.click()
        cells = _column(page, index)
        values = [int(c.replace(",", "")) for c in cells if c.strip() not in ("", "—")]
        assert len(values) > 100 and values == sorted(values), name
        assert all(c.strip() in ("", "—") for c in cells[len(values) :]), f"{name}: blank cells go last"
        header.click()
        values_desc = [int(c.replace(",", "")) for c in _column(page, index) if c.strip() not in ("", "—")]
        assert values_desc == sorted(values, reverse=True), name
    latency = page.locator(".cvattn-sortable th", has_text="Latency")
    latency.click()
    times = [float(c.replace(",", "")) for c in _column(page, 8) if c.strip() not in ("", "—")]
    assert times == sorted(times)


@pytest.mark.parametrize("lang", ["", "zh/"])
@pytest.mark.parametrize("path", ["catalog/all/", "catalog/modules/", "catalog/categories/channel/"])
def test_table_pages_use_the_width_and_scroll_visibly(browser, url, lang, path):
    hint = "可左右滑动" if lang else "Scroll sideways"
    for width, overflowing in ((1280, False), (390, True)):
        context = browser.new_context(viewport={"width": width, "height": 900})
        pg = context.new_page()
        pg.goto(url + lang + path)
        pg.wait_for_selector("article table")
        assert pg.locator(".md-sidebar--secondary").is_hidden(), (
            "table pages have no table-of-contents column"
        )
        box = pg.evaluate(
            """() => { const wrap = document.querySelector('article .md-typeset__scrollwrap');
                       const table = wrap.querySelector('table');
                       const last = table.tHead.rows[0].cells[table.tHead.rows[0].cells.length - 1];
                       const rows = Array.from(table.tBodies[0].rows).slice(0, 20).map(r => r.getBoundingClientRect().height);
                       return {wrap: wrap.clientWidth, table: table.scrollWidth, lastRight: last.getBoundingClientRect().right,
                               rowMax: Math.max(...rows), scroll: getComputedStyle(wrap).overflowX,
                               hint: !!wrap.previousElementSibling && wrap.previousElementSibling.classList.contains('cvattn-scroll-hint')}; }"""
        )
        if overflowing:  # a phone: the table scrolls sideways, with a scrollbar and a hint saying so
            assert box["table"] > box["wrap"] and box["scroll"] == "scroll" and box["hint"], box
            assert hint in pg.locator(".cvattn-scroll-hint").first.inner_text()
        else:  # a laptop: every column, the idea column included, fits beside the navigation
            assert box["table"] <= box["wrap"] + 1 and box["lastRight"] <= width and not box["hint"], box
            assert box["rowMax"] < 180, f"rows are too tall ({box['rowMax']:.0f} px): columns too narrow"
        context.close()


def test_category_page_lists_its_entries(page, url):
    catalog, _ = load()
    page.goto(url + "catalog/categories/channel/")
    rows = page.locator("article table tbody tr")
    assert rows.count() == sum(p.category == "channel" for p in catalog.papers)
    assert page.get_by_role("link", name="Squeeze-and-Excitation Networks").count() == 1


def test_language_switch_keeps_the_page(page, url):
    page.goto(url + "catalog/papers/se/")
    page.locator(".md-header__option .md-select").first.hover()
    page.get_by_role("link", name="中文").click()
    page.wait_for_url(re.compile(r"/zh/catalog/papers/se/$"))
    assert "核心思想" in page.content()


def _search(page, query: str) -> list[str]:
    page.locator("label.md-search__icon, .md-search__input").first.click()
    box = page.locator("input.md-search__input")
    box.fill(query)
    box.press("End")  # typed Chinese fires no keyup in a scripted Chromium: press a real key
    page.wait_for_selector(".md-search-result__item", timeout=15_000)
    return page.locator(".md-search-result__item").all_inner_texts()


def test_search_finds_chinese_and_english_terms(page, url):
    page.goto(url + "zh/")
    found = _search(page, "通道注意力")
    assert any("Squeeze-and-Excitation" in r or "通道注意力" in r for r in found)
    page.goto(url)
    found = _search(page, "excitation")
    assert any("Squeeze-and-Excitation" in r for r in found)


def test_paper_page_has_bibtex_copy_button(page, url):
    page.goto(url + "catalog/papers/se/")
    bibtex = page.locator("pre", has_text="@inproceedings")
    assert bibtex.count() == 1
    button = bibtex.locator("button[data-md-type=copy]")  # added by Material's content.code.copy
    button.wait_for(state="attached")
    assert button.count() == 1


HOSTILE = GOOD.replace(
    "A Good Paper About Attention", '"Attention <script>window.__pwned = 1</script> Networks"'
).replace("  en: One line.", "  en: '<img src=x onerror=\"window.__pwned = 2\"> idea'")


def test_hostile_entry_text_executes_nothing(page, serve, tmp_path_factory):
    real = {p.name: p.read_text(encoding="utf-8") for p in sorted((CATALOG_DIR / "papers").glob("*.yaml"))}
    real["good.yaml"] = HOSTILE.replace("modules: [se]", "modules: []").replace(
        '"2001.00001"', '"2001.99999"'
    )
    root = make_catalog(tmp_path_factory.mktemp("hostile"), real)
    site = tmp_path_factory.mktemp("hostile-site")
    build_site(site, catalog_dir=root)
    base = serve(site, tmp_path_factory.mktemp("hostile-root"))
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    for path in ("", "catalog/all/", "catalog/papers/good/", "zh/catalog/papers/good/"):
        page.goto(base + path)
        page.wait_for_load_state("load")
        assert page.evaluate("window.__pwned === undefined"), path
    assert "<script>window.__pwned" in page.locator("article").inner_text()
    assert dialogs == []


def test_home_language_switch_works_under_a_sub_path(page, url):
    # the site is served under /cvattn/: links to "/" or "/zh/" would leave it
    assert url.endswith("/cvattn/")
    page.goto(url)
    page.locator(".md-header__option .md-select").first.hover()
    page.get_by_role("link", name="中文").click()
    page.wait_for_url(url + "zh/")
    page.locator(".md-header__option .md-select").first.hover()
    page.get_by_role("link", name="English").click()
    page.wait_for_url(url)
    for path in ("", "zh/", "catalog/all/", "zh/catalog/papers/se/"):
        page.goto(url + path)
        hrefs = page.locator("a.md-select__link").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert len(hrefs) == 2 and not any(h.startswith("/") for h in hrefs), (path, hrefs)


def test_pages_request_nothing_missing(page, url):
    # Material fetched a sitemap.xml beside each <link rel=alternate>: two 404s on every page
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    for path in ("", "zh/", "catalog/all/", "zh/catalog/papers/se/", "catalog/modules/"):
        page.goto(url + path)
        page.wait_for_load_state("networkidle")
    assert missing == []
    assert page.locator("link[rel=alternate]").count() == 0


def test_root_404_page_is_english_with_a_chinese_line(page, url):
    catalog, _ = load()
    page.goto(url + "404.html")
    assert page.locator("html").get_attribute("lang") == "en"
    body = page.locator("article").inner_text()
    assert "Page not found" in body and "页面不存在" in body
    hrefs = page.locator("article a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert hrefs == ["/", "/zh/"], hrefs  # served at any depth: links from the site root (base_url)
    menu = page.locator("a.md-select__link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert menu == ["/", "/zh/"], "the 404 page's language menu leads to the home pages, not to some paper"
    titles = [p.title for p in catalog.papers]
    assert not any(t in page.content() for t in titles)


@pytest.mark.parametrize(
    "lang, toggles, permalink, footer",
    [
        ("", ("Dark mode", "Light mode"), "Permanent link", "Made with"),
        ("zh/", ("切换到深色模式", "切换到浅色模式"), "永久链接", "本站由"),
    ],
)
def test_theme_strings_follow_the_page_language(page, url, lang, toggles, permalink, footer):
    page.goto(url + lang + "catalog/papers/se/")
    labels = page.locator("form[data-md-component=palette] label").evaluate_all(
        "ls => ls.map(l => l.getAttribute('title'))"
    )
    assert set(labels) == set(toggles)
    links = page.locator("a.headerlink").evaluate_all("ls => ls.map(l => l.getAttribute('title'))")
    assert links and set(links) == {permalink}
    assert footer in page.locator(".md-copyright").inner_text()


@pytest.mark.parametrize("lang", ["", "zh/"])
def test_module_page_shows_how_to_get_the_code(page, url, lang):
    from scripts.registry_scan import scan_code

    code = scan_code()
    page.goto(url + lang + "catalog/papers/non-local/")
    article = page.locator("article")
    assert "pip install ." in article.inner_text() and "py3-none-any.whl" in article.inner_text()
    # four variants of one class: the constructor and source of each, the API block once
    assert article.locator(".doc-class").count() == 1
    for module_id in ("non-local", "non-local-gaussian"):
        assert code[module_id].config.split(", ")[-1] in article.inner_text()
    source = article.get_by_role("link", name="modules/cvattn/attention/non_local.py").first
    href = source.get_attribute("href")
    response = page.request.get(page.url.split("#")[0] + href)
    assert response.ok and response.text() == (ROOT / "modules/cvattn/attention/non_local.py").read_text(
        encoding="utf-8"
    )
    page.goto(url + lang)
    assert "pip install ." in page.locator("article").inner_text()


def test_home_install_line_names_the_package_version():
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    for name in ("index.md", "index.zh.md"):
        assert f"cvattn-{version}-py3-none-any.whl" in (ROOT / "docs" / name).read_text(encoding="utf-8"), (
            name
        )


@pytest.mark.parametrize("lang, intro", [("", "trained"), ("zh/", "训练后")])
def test_gallery_shows_trained_maps_with_colour_bars_and_papers(page, url, lang, intro):
    import json

    data = json.loads((ROOT / "docs" / "data" / "gallery.json").read_text(encoding="utf-8"))
    page.goto(url + lang + "catalog/gallery/")
    article = page.locator("article")
    assert intro in article.inner_text()
    figures = article.locator("img[src*='assets/gallery/']")
    assert figures.count() == len(data["modules"]) > 10
    assert figures.evaluate_all("imgs => imgs.every(i => i.complete && i.naturalWidth > 0)")
    for module_id in data["modules"]:
        section = article.locator(f"h2:has(code:text-is('{module_id}'))")
        assert section.count() == 1, module_id
    papers = article.locator("a[href*='papers/']")
    assert papers.count() == len(data["modules"])
    href = papers.first.get_attribute("href")
    assert page.request.get(page.url + href).ok
