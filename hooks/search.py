"""MkDocs hook: one search index per language, page keywords, and Chinese words for jieba.

mkdocs-static-i18n builds each language in turn and merges the search entries of all of them into one
``search/search_index.json`` (the other languages' locations start with ``zh/``): an English page then
finds every Chinese twin. After the last build this hook splits that index: the default language keeps
``search/search_index.json``, each other language gets ``<lang>/search/search_index.json`` with locations
relative to ``<lang>/``. Material's script fetches the index relative to ``base`` in the page's
``__config`` JSON (and resolves result links against it), so the hook points ``base`` of every page of
another language at that language's root.

A page's front matter may carry ``search: {keywords: [...], terms: [...]}`` (the paper pages do, see
``scripts/render.py``): ``keywords`` (module ids, the mechanism's Chinese name) go into the ``tags`` field
of the page's entry, which Material weighs above titles, so searching a module id finds its page first;
the Han words among ``terms`` and ``keywords`` that jieba would cut into single characters (非局部 ->
非/局部) are added to jieba's dictionary before the pages are indexed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
from pathlib import Path

from jinja2.utils import htmlsafe_json_dumps
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority

log = logging.getLogger("mkdocs.hooks.search")

INDEX = "search/search_index.json"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")  # CJK ideographs (and extension A)
CONFIG_SCRIPT = re.compile(r'(<script id="__config" type="application/json">)(.*?)(</script>)', re.S)

# jieba's frequency for the words added, that of a rare dictionary word. Its own suggestion (1) loses to a
# cut across a conjunction (自注意力与非局部 -> 与非 / 局部: 与非 has 213); 20 wins there (above 4) and still
# loses to a common word (并非局部最优 stays 并非 / 局部 / 最优: below 99).
WORD_FREQ = 20

# Collected from the pages of every language build of this process (page url -> keywords; Han words).
_keywords: dict[str, list[str]] = {}
_words: set[str] = set()


def _languages(config) -> tuple[str | None, list[str]]:
    """The default language and the other built languages of mkdocs-static-i18n (none without it)."""
    i18n = config.plugins.get("i18n")
    if i18n is None:
        return None, []
    langs = [lang for lang in i18n.config.languages if lang.build]
    default = next((lang.locale for lang in langs if lang.default), None)
    return default, [lang.locale for lang in langs if lang.locale != default]


def _search_meta(page) -> dict:
    meta = page.meta.get("search") or {}
    if not isinstance(meta, dict):
        raise PluginError(f"{page.file.src_uri}: front matter 'search' must be a mapping, not {meta!r}")
    for key in ("keywords", "terms"):
        value = meta.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise PluginError(
                f"{page.file.src_uri}: front matter 'search.{key}' must be a list of non-empty strings"
            )
    return meta


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    meta = _search_meta(page)
    keywords = list(dict.fromkeys(k.strip() for k in meta.get("keywords", [])))
    if keywords:
        _keywords[page.url] = keywords
    else:
        _keywords.pop(page.url, None)
    for value in [*meta.get("terms", []), *keywords]:
        _words.update(HAN.findall(value))
    return markdown


def jieba_words(words, cut) -> list[str]:
    """The words jieba should learn: those its own dictionary cuts into pieces of which one is a single
    character (非局部 -> 非 / 局部, and 自注意力与非局部 -> ... 与非 / 局部). Words it already cuts into whole
    words (通道注意力 -> 通道 / 注意力) are left alone, so searching a part still finds them."""
    out = []
    for word in sorted(set(words)):
        pieces = [p for p in cut(word) if p.strip()]
        if len(word) > 1 and len(pieces) > 1 and any(len(p) == 1 for p in pieces):
            out.append(word)
    return out


def _replace_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it: never half-written, and never written
    into the old file (the merged index may be a hard link to the previous build's, see scripts/site.py)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class LazyJieba:
    """Stands in for jieba in Material's search plugin, which only calls ``jieba.cut`` on runs of Han characters.

    Loading jieba's dictionary takes most of a second, and after an edit nearly every text it would cut was cut
    in an earlier build. So cuts are remembered per dictionary state (``.cache/jieba/<state>.json``), and
    the dictionary is loaded, then taught the words of the pages (:func:`jieba_words`, batch by batch in the
    order the language builds collected them), only when a text not seen before must be cut. The state is what
    the dictionary would hold: jieba's version, :data:`WORD_FREQ` and the batches of words taught, so the cuts,
    and the page cache's search entries keyed on :meth:`state_key`, are the same as with jieba loaded eagerly.
    """

    def __init__(self, jieba, memo_dir: Path | None) -> None:
        self._jieba = jieba
        self._memo_dir = memo_dir
        self._batches: list[list[str]] = []  # every batch of words, in order
        self._taught = 0  # how many of them the loaded dictionary has learnt
        self._memo: dict[str, dict[str, list[str]]] = {}  # state -> text -> pieces
        self._dirty: set[str] = set()
        self._state: str | None = None  # state_key() until the next batch

    def teach(self, words) -> None:
        """Queue the words collected by one language build (those already queued are left out)."""
        known = {w for batch in self._batches for w in batch}
        batch = sorted(set(words) - known)
        if batch:
            self._batches.append(batch)
            self._state = None

    def state_key(self) -> str:
        """The dictionary's state, hashed (asked for every text cut: computed once per batch taught)."""
        if self._state is None:
            data = json.dumps([getattr(self._jieba, "__version__", "?"), WORD_FREQ, self._batches])
            self._state = hashlib.sha256(data.encode("utf-8")).hexdigest()[:24]
        return self._state

    def _memo_of(self, state: str) -> dict[str, list[str]]:
        memo = self._memo.get(state)
        if memo is None:
            memo = {}
            if self._memo_dir is not None:
                try:
                    memo = json.loads((self._memo_dir / f"{state}.json").read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    memo = {}
            self._memo[state] = memo
        return memo

    def cut(self, value, *args, **kwargs):
        text = value.decode("utf-8") if isinstance(value, bytes) else value
        if args or kwargs:  # a cut mode Material does not use: not remembered
            self._learn()
            return self._jieba.cut(value, *args, **kwargs)
        state = self.state_key()
        memo = self._memo_of(state)
        pieces = memo.get(text)
        if pieces is None:
            self._learn()
            pieces = memo[text] = list(self._jieba.cut(text))
            self._dirty.add(state)
        return iter(pieces)

    def _learn(self) -> None:
        while self._taught < len(self._batches):
            new = jieba_words(self._batches[self._taught], self._jieba.lcut)
            for word in new:
                self._jieba.add_word(word, freq=WORD_FREQ)
            self._taught += 1
            if new:
                log.info(f"search: {len(new)} Chinese word(s) added to jieba's dictionary")

    def save(self) -> None:
        """Write the cuts made since the last save (each state's file replaced whole, atomically)."""
        if self._memo_dir is None:
            return
        for state in sorted(self._dirty):
            try:
                self._memo_dir.mkdir(parents=True, exist_ok=True)
                text = json.dumps(self._memo[state], ensure_ascii=False)
                _replace_text(self._memo_dir / f"{state}.json", text)
            except OSError:
                pass  # a read-only cache: cut again next time
        self._dirty.clear()
        for path in self._memo_dir.glob("*.json"):  # states no build of this process was in (other words)
            if path.stem not in self._memo:
                path.unlink(missing_ok=True)

    def __getattr__(self, name):  # anything else Material might use (set_dictionary, ...) is jieba's own
        self._learn()
        return getattr(self._jieba, name)


def _memo_dir() -> Path | None:
    """Where cuts are remembered: ``jieba/`` beside the page cache's folder (``hooks/pagecache.py``, which
    removes the files in its own folder that a build did not use), off when the page cache is off."""
    if os.environ.get("CVATTN_PAGE_CACHE", "1") == "0":
        return None
    pages = os.environ.get("CVATTN_PAGE_CACHE_DIR")
    return (Path(pages).parent if pages else Path(__file__).resolve().parent.parent / ".cache") / "jieba"


def on_env(env, config, files, **kwargs):
    """After every page's front matter is read and before the search plugin segments their text."""
    try:
        import jieba
        from material.plugins.search import plugin as search_plugin
    except ImportError:  # Material then indexes Chinese unsegmented; nothing to teach
        return env
    cutter = search_plugin.jieba
    if not isinstance(cutter, LazyJieba):
        cutter = search_plugin.jieba = LazyJieba(jieba, _memo_dir())
    cutter.teach(_words)
    return env


def language_base(base_url: str, lang: str) -> str:
    """``base`` for a page of ``lang``: its language root, with a trailing slash (the browser resolves
    ``search/search_index.json`` and result locations against it)."""
    return posixpath.join(base_url or ".", lang) + "/"


def on_post_page(output: str, page, config, **kwargs) -> str:
    default, others = _languages(config)
    lang = next((lang for lang in others if page.url.startswith(f"{lang}/")), None)
    if lang is None:
        return output
    match = CONFIG_SCRIPT.search(output)
    if match is None:
        raise PluginError(f"{page.file.src_uri}: no __config script in the page (has the theme changed?)")
    data = json.loads(match.group(2))
    if "base" not in data:
        raise PluginError(f"{page.file.src_uri}: the page's __config has no 'base'")
    data["base"] = language_base(data["base"], lang)
    return output[: match.start(2)] + str(htmlsafe_json_dumps(data)) + output[match.end(2) :]


def split_index(index: dict, others: list[str], keywords: dict[str, list[str]]) -> dict[str | None, dict]:
    """The merged index as one index per language (None: the default language), keywords added as tags
    to each page's own entry (not to its sections)."""
    out: dict[str | None, dict] = {None: {"config": index["config"], "docs": []}}
    for lang in others:
        out[lang] = {"config": index["config"], "docs": []}
    for doc in index["docs"]:
        location = doc["location"]
        words = keywords.get(location)
        if words:
            doc = {**doc, "tags": list(dict.fromkeys([*doc.get("tags", []), *words]))}
        lang = next((lang for lang in others if location.startswith(f"{lang}/")), None)
        if lang is not None:
            doc = {**doc, "location": location[len(lang) + 1 :]}
        out[lang]["docs"].append(doc)
    return out


@event_priority(-200)  # after mkdocs-static-i18n (-100) has built every language and written the merged index
def on_post_build(config, **kwargs) -> None:
    try:
        from material.plugins.search import plugin as search_plugin
    except ImportError:
        search_plugin = None
    if isinstance(getattr(search_plugin, "jieba", None), LazyJieba):
        search_plugin.jieba.save()
    i18n = config.plugins.get("i18n")
    if i18n is not None and getattr(i18n, "building", False):
        return  # one language of several: the merged index comes at the end
    site = Path(config["site_dir"])
    path = site / INDEX
    if not path.is_file():
        return  # the search plugin is off
    _, others = _languages(config)
    index = json.loads(path.read_text(encoding="utf-8"))
    parts = split_index(index, others, _keywords)
    for lang, part in parts.items():
        target = path if lang is None else site / lang / INDEX
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace_text(target, json.dumps(part, ensure_ascii=False, separators=(",", ":")))
    counts = ", ".join(f"{lang or 'default'} {len(part['docs'])}" for lang, part in parts.items())
    log.info(f"search: index split by language ({counts} entries)")
