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

import json
import logging
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
_added: set[str] = set()


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


def on_env(env, config, files, **kwargs):
    """After every page's front matter is read and before the search plugin segments their text."""
    try:
        import jieba
    except ImportError:  # Material then indexes Chinese unsegmented; nothing to teach
        return env
    new = jieba_words(_words - _added, jieba.lcut)
    for word in new:
        jieba.add_word(word, freq=WORD_FREQ)
    _added.update(_words)
    if new:
        log.info(f"search: {len(new)} Chinese word(s) added to jieba's dictionary")
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
        target.write_text(json.dumps(part, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    counts = ", ".join(f"{lang or 'default'} {len(part['docs'])}" for lang, part in parts.items())
    log.info(f"search: index split by language ({counts} entries)")
