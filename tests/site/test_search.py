"""Site search: one index per language, module ids and Chinese names as keywords, queries that end in '-'.

The fast tests check hooks/search.py and the paper pages' search front matter on their own; the others
check docs/assets/search.js in Chromium, the built site's two indexes, and the search box in Chromium
(fixtures of tests/site/test_browser.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scripts import render
from scripts.catalog import ROOT, load
from tests.site.test_browser import browser, page, pytest_runtest_makereport, url  # noqa: F401 (fixtures)

SCRIPT = ROOT / "docs" / "assets" / "search.js"


def _hook():
    spec = importlib.util.spec_from_file_location("cvattn_search_hook", ROOT / "hooks" / "search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hook = _hook()


# ----------------------------------------------------------------------------- the hook, on its own


MERGED = {
    "config": {"lang": ["en", "zh"], "separator": r"[\s\-]+", "pipeline": [], "fields": {}},
    "docs": [
        {"location": "", "title": "Home", "text": ""},
        {"location": "catalog/papers/se/", "title": "SE", "text": "Authors"},
        {"location": "catalog/papers/se/#idea", "title": "Idea", "text": "gate"},
        {"location": "zh/", "title": "首页", "text": ""},
        {"location": "zh/catalog/papers/se/", "title": "SE", "text": "作者", "tags": ["old"]},
        {"location": "zh/catalog/papers/se/#核心思想", "title": "核心思想", "text": "门控"},
    ],
}


def test_split_index_keeps_each_language_to_itself():
    keywords = {"catalog/papers/se/": ["se"], "zh/catalog/papers/se/": ["se", "挤压激励"]}
    parts = hook.split_index(json.loads(json.dumps(MERGED)), ["zh"], keywords)
    assert set(parts) == {None, "zh"}
    en, zh = parts[None]["docs"], parts["zh"]["docs"]
    assert [d["location"] for d in en] == ["", "catalog/papers/se/", "catalog/papers/se/#idea"]
    assert [d["location"] for d in zh] == ["", "catalog/papers/se/", "catalog/papers/se/#核心思想"]
    assert parts["zh"]["config"] == MERGED["config"] == parts[None]["config"]
    # keywords go to the page's own entry only, after tags it already had
    assert en[1]["tags"] == ["se"] and "tags" not in en[2]
    assert zh[1]["tags"] == ["old", "se", "挤压激励"] and "tags" not in zh[2]
    # without i18n there is one language: nothing moves
    single = hook.split_index(json.loads(json.dumps(MERGED)), [], {})
    assert list(single) == [None] and len(single[None]["docs"]) == len(MERGED["docs"])


def test_language_base_points_at_the_language_root():
    assert hook.language_base("../../..", "zh") == "../../../zh/"
    assert hook.language_base("..", "zh") == "../zh/"
    assert hook.language_base(".", "zh") == hook.language_base("", "zh") == "./zh/"


def test_jieba_learns_only_the_words_it_would_cut_into_single_characters():
    import jieba  # the site's requirement for Chinese search

    words = hook.jieba_words(["非局部", "自注意力", "通道注意力", "长程依赖", "注"], jieba.lcut)
    assert words == ["自注意力", "非局部"]


class _CountingJieba:
    """A stand-in dictionary: cuts into pairs of characters, knows the words it is taught, counts its loads."""

    __version__ = "test"

    def __init__(self):
        self.loads = 0
        self.added = []

    def _load(self):
        self.loads += self.loads == 0

    def lcut(self, text):
        self._load()
        return [text[i : i + 2] for i in range(0, len(text), 2)]

    def cut(self, text):
        self._load()
        return iter([text] if text in self.added else self.lcut(text))

    def add_word(self, word, freq=None):
        self.added.append(word)


def test_lazy_jieba_loads_the_dictionary_only_for_new_text(tmp_path):
    fake = _CountingJieba()
    lazy = hook.LazyJieba(fake, tmp_path)
    lazy.teach(["非局部", "注意力"])
    state = lazy.state_key()
    assert fake.loads == 0
    assert list(lazy.cut("非局部".encode())) == [
        "非局部"
    ]  # taught before the first cut (非局 / 部 otherwise)
    assert fake.loads == 1 and fake.added == ["注意力", "非局部"]  # both cut with a single character
    lazy.save()
    again = hook.LazyJieba(_CountingJieba(), tmp_path)  # the next build
    again.teach(["注意力", "非局部"])
    assert again.state_key() == state
    assert list(again.cut("非局部".encode())) == ["非局部"]
    assert again._jieba.loads == 0  # remembered: no dictionary load
    again.teach(["通道"])  # a second language's words: a new state, cut afresh
    assert again.state_key() != state
    assert list(again.cut("非局部".encode())) == ["非局部"] and again._jieba.loads == 1
    again.save()
    assert {p.stem for p in tmp_path.glob("*.json")} == {state, again.state_key()}


def test_lazy_jieba_cuts_as_eager_jieba_does(tmp_path):
    import jieba

    words = ["非局部", "自注意力与非局部", "通道注意力"]
    text = "自注意力与非局部的通道注意力并非局部最优"
    eager = jieba.Tokenizer()
    for word in hook.jieba_words(words, eager.lcut):
        eager.add_word(word, freq=hook.WORD_FREQ)
    lazy = hook.LazyJieba(jieba.Tokenizer(), tmp_path)
    lazy.teach(words)
    assert list(lazy.cut(text.encode())) == list(eager.cut(text))
    lazy.save()
    remembered = hook.LazyJieba(jieba.Tokenizer(), tmp_path)
    remembered.teach(words)
    assert list(remembered.cut(text.encode())) == list(eager.cut(text))
    assert not remembered._jieba.initialized  # from the file, without loading the dictionary


def test_search_front_matter_is_checked():
    class Page:
        class file:
            src_uri = "x.md"

    Page.meta = {"search": {"keywords": "se"}}
    with pytest.raises(Exception, match=r"x\.md: front matter 'search\.keywords' must be a list"):
        hook.on_page_markdown("", Page, {}, None)
    Page.meta = {"search": ["se"]}
    with pytest.raises(Exception, match="must be a mapping"):
        hook.on_page_markdown("", Page, {}, None)


def test_paper_pages_declare_their_module_ids_and_chinese_names():
    catalog, _ = load()
    papers = {p.id: p for p in catalog.papers}
    en = render.search_front(catalog, papers["non-local"], "en")
    zh = render.search_front(catalog, papers["non-local"], "zh")
    assert en == {"keywords": list(papers["non-local"].modules)}
    assert zh["keywords"] == [*papers["non-local"].modules, "非局部"]
    assert "非局部" in zh["terms"] and "自注意力" in zh["terms"]
    survey = next(p for p in catalog.papers if not p.modules)
    assert "keywords" not in render.search_front(catalog, survey, "en")
    front = render._front("T", search=zh)
    assert '"非局部"' in front and front.startswith("---\n") and front.endswith("---\n\n")


# ----------------------------------------------------------------------------- the query script, on its own

CASES = {
    "se": "se^10 se",
    "non-": "non^10 non",
    "non-local": "non^10 non local^10 local",
    "-": "",
    "non -": "non^10 non",
    "-local": "-local",
    "+se net": "+se net^10 net",
    '"non-local block" x': '"non local block" x^10 x',
    "se^2": "se^2",
    "非局部": "非局部〇^10 非局部〇",
    "非局部-": "非局部〇^10 非局部〇",
    "通道注意力": "通道〇^10 通道〇 注意力〇^10 注意力〇",
    "未知": "未知",
}
SETUP = {
    "type": 0,
    "data": {
        "config": {"separator": r"[\s\u200b\-]+"},
        "docs": [
            {"title": "自注意力\u200b与\u200b非局部", "text": "<p>通道\u200b注意力</p>", "tags": ["非局部"]}
        ],
    },
}
STUB = (
    """() => { window.__sent = []; Worker.prototype.postMessage = function (m) { window.__sent.push(m) } }"""
)
RUN = """([setup, queries]) => {
  const w = Object.create(Worker.prototype);  // no worker is started: the stub records what would be sent
  w.postMessage(setup);
  const out = {};
  for (const q of queries) { w.postMessage({type: 2, data: q}); out[q] = window.__sent.pop().data }
  w.postMessage({type: 3, data: "x"}); out.other = window.__sent.pop().data;
  return out;
}"""


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_query_script_splits_hyphens_and_boosts_exact_words(browser):  # noqa: F811
    pg = browser.new_page()
    try:
        pg.set_content("<!doctype html><meta charset=utf-8><title>t</title>")
        pg.evaluate(STUB)
        pg.add_script_tag(content=SCRIPT.read_text(encoding="utf-8"))
        out = pg.evaluate(RUN, [SETUP, list(CASES)])
    finally:
        pg.close()
    assert {q: out[q] for q in CASES} == CASES
    assert out["other"] == "x"  # messages other than queries pass unchanged


# ----------------------------------------------------------------------------- the built site


def _index(site: Path, lang: str) -> list[dict]:
    path = site / ("" if lang == "en" else f"{lang}/") / "search" / "search_index.json"
    return json.loads(path.read_text(encoding="utf-8"))["docs"]


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_built_indexes_are_split_by_language(site):
    en, zh = _index(site, "en"), _index(site, "zh")
    assert en and zh
    assert not [d["location"] for d in en if d["location"].startswith("zh/")]
    assert not [d["location"] for d in zh if d["location"].startswith("zh/")]
    for lang, docs in (("en", en), ("zh", zh)):
        root = site if lang == "en" else site / lang
        pages = {d["location"].split("#")[0] for d in docs}
        missing = [p for p in pages if not (root / p / "index.html").is_file()]
        assert not missing, (lang, missing[:5])
    # every page of each language is in its index (i18n no longer drops a zh twin equal to its en page)
    zh_pages = {
        str(p.parent.relative_to(site / "zh")).replace(".", "") for p in (site / "zh").rglob("index.html")
    }
    zh_pages = {"" if p == "" else p + "/" for p in zh_pages}
    indexed = {d["location"] for d in zh if "#" not in d["location"]}
    assert zh_pages - indexed <= {p for p in zh_pages if p.startswith(("catalog/src/", "assets/"))}
    se = next(d for d in en if d["location"] == "catalog/papers/se/")
    assert se["tags"] == ["se"]
    nl = next(d for d in zh if d["location"] == "catalog/papers/non-local/")
    assert "非局部" in nl["tags"] and "non-local" in nl["tags"]
    # the Chinese title of the category holds the word 非局部 (jieba no longer cuts 与非 / 局部)
    category = next(d for d in zh if d["location"] == "catalog/categories/self-attention/")
    assert "非局部" in category["title"].split("\u200b")


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_chinese_pages_load_their_own_index(site):
    for path, depth in (("zh/index.html", 1), ("zh/catalog/papers/se/index.html", 4)):
        html = (site / path).read_text(encoding="utf-8")
        config = json.loads(
            re.search(r'<script id="__config" type="application/json">(.*?)</script>', html, re.S)[1]
        )
        assert config["base"] == "../" * depth + "zh/", path
    html = (site / "catalog/papers/se/index.html").read_text(encoding="utf-8")
    config = json.loads(
        re.search(r'<script id="__config" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    assert config["base"] == "../../.."


# ----------------------------------------------------------------------------- in Chromium


def _type(pg, query: str) -> None:
    pg.locator("label.md-search__icon, .md-search__input").first.click()
    box = pg.locator("input.md-search__input")
    box.fill(query)
    box.press("End")  # typed Chinese fires no keyup in a scripted Chromium: press a real key


def _results(pg, query: str) -> list[str]:
    """Paths of the pages found for ``query`` (the query string and fragment dropped), best first."""
    _type(pg, query)
    pg.wait_for_selector(".md-search-result__item", timeout=20_000)
    hrefs = pg.locator(".md-search-result__item > a").evaluate_all("as => as.map(a => a.href)")
    return [urlsplit(h).path for h in hrefs]


def _titles(pg) -> list[str]:
    return [
        t.replace("\u200b", "")
        for t in pg.locator(".md-search-result__item > a article h1").all_inner_texts()
    ]


@pytest.mark.slow
@pytest.mark.xdist_group("site")
@pytest.mark.parametrize(
    ("lang", "query"), [("en", "attention"), ("en", "注意力"), ("zh", "注意力"), ("zh", "attention")]
)
def test_results_stay_in_the_page_language(page, url, lang, query):  # noqa: F811
    root = urlsplit(url).path + ("zh/" if lang == "zh" else "")
    page.goto(url + ("zh/catalog/all/" if lang == "zh" else "catalog/all/"))
    found = _results(page, query)
    assert len(found) >= 5, found
    wrong = [p for p in found if p.startswith(urlsplit(url).path + "zh/") != (lang == "zh")]
    assert not wrong, wrong
    assert all(p.startswith(root) for p in found)


@pytest.mark.slow
@pytest.mark.xdist_group("site")
@pytest.mark.parametrize(
    ("lang", "module_id", "paper"),
    [("en", "se", "se"), ("en", "cbam", "cbam"), ("en", "eca", "eca"), ("zh", "se", "se")],
)
def test_a_module_id_finds_its_paper_first(page, url, lang, module_id, paper):  # noqa: F811
    prefix = "zh/" if lang == "zh" else ""
    page.goto(url + prefix)
    found = _results(page, module_id)
    assert found[0] == urlsplit(url).path + f"{prefix}catalog/papers/{paper}/", found[:5]


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_chinese_name_finds_the_non_local_paper_first_then_titles(page, url):  # noqa: F811
    page.goto(url + "zh/")
    found = _results(page, "非局部")
    assert found[0] == urlsplit(url).path + "zh/catalog/papers/non-local/", found[:5]
    # after it, the pages with the word in their title come before those with it in their text only
    titles = _titles(page)[1:]
    with_word = [i for i, t in enumerate(titles) if "非局部" in t]
    assert with_word and with_word == list(range(len(with_word))), titles


@pytest.mark.slow
@pytest.mark.xdist_group("site")
def test_query_ending_in_a_hyphen_searches_the_word(page, url):  # noqa: F811
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "worker",
        lambda w: w.on(
            "console", lambda m: problems.append(m.text) if m.type in ("warning", "error") else None
        ),
    )
    page.goto(url)
    plain = _results(page, "non")
    page.goto(url)
    hyphen = _results(page, "non-")
    assert problems == []
    assert hyphen[0] == urlsplit(url).path + "catalog/papers/non-local/"
    assert hyphen == plain  # "non-" is the word "non", not "non" and a clause matching everything
    meta = page.locator(".md-search-result__meta").inner_text()
    assert re.search(r"\d+ matching documents", meta), meta
