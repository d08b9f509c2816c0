"""MkDocs hook: reuse each page's Markdown conversion, search entries and theme rendering from earlier builds
when their inputs are unchanged, so that a rebuild after editing one entry converts, indexes and renders only
the pages that changed.

mkdocs converts every page on every build (each paper page twice, once per language, each with an API block
that mkdocstrings renders), and Material's search parses every page's HTML again. Both results follow from
inputs that are hashed into a key:

- **conversion** (``Page.render``): the page's final Markdown (after every ``on_page_markdown`` hook), its path
  and URL, the language, the URL of every file of the build (relative links are checked and rewritten against
  them), ``mkdocs.yml``, this file, the versions of the Markdown toolchain, the files that snippets include, and,
  for a page with an API block (``::: ``), the package's sources.
- **search** (``SearchIndex.add_entry_from_context``): the page's HTML, title, URL, table of contents and front
  matter, the search plugin's options and the state of jieba's dictionary (hooks/search.py adds words to it).
- **theme rendering** (the page's output before ``on_post_page``): see the "templates" section below.
- **API blocks** (mkdocstrings' rendering of one ``::: `` block, inside a page that is converted again): the
  block, the package's sources, the templates, the page's URL and language; see the "API blocks" section.
- **theme files** (the theme's static files mkdocs lists on each build): see the "theme files" section.

A hit restores what the conversion leaves on the page (HTML, table of contents, title, anchor ids, links to
anchors) and replays what it registers elsewhere while it runs: autorefs anchors and mkdocstrings inventory
items. A conversion that logs a warning is not kept, so that a strict build fails again on the next run.

The cache is ``.cache/pages/`` (git-ignored; ``CVATTN_PAGE_CACHE_DIR`` names another folder); entries that no
build of the process used are removed when mkdocs shuts down. Deleting the folder only makes the next build
slower. ``CVATTN_PAGE_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import SubElement

from mkdocs.plugins import event_priority
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, TableOfContents

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE_DIR = ROOT / ".cache" / "pages"
PACKAGE_DIR = ROOT / "modules" / "cvattn"
SNIPPET_FILES = ("CONTRIBUTING.md", "CONTRIBUTING.zh.md", "README.md")
"""Files outside docs/ that pages include with ``--8<--`` (pymdownx.snippets)."""
TOOLCHAIN = (
    "mkdocs",
    "markdown",
    "pymdown-extensions",
    "pygments",
    "mkdocstrings",
    "mkdocstrings-python",
    "griffelib",
    "mkdocs-autorefs",
    "mkdocs-material",
    "mkdocs-static-i18n",
    "jieba",
)
FORMAT = 2
"""Bump when what an entry holds changes."""

log = logging.getLogger("mkdocs.hooks.pagecache")
_state: dict[str, Any] = {
    "base": None,
    "files": "",
    "api": "",
    "used": set(),
    "hits": 0,
    "misses": 0,
    "api_hits": 0,
}


def enabled() -> bool:
    return os.environ.get("CVATTN_PAGE_CACHE", "1") != "0"


def _sha(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part if isinstance(part, bytes) else str(part).encode("utf-8")) + b"\0")
    return digest.hexdigest()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "-"


def _tree_digest(paths: list[Path]) -> str:
    return _sha(*(f"{_rel(p)}\0".encode() + p.read_bytes() for p in paths))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


# ---------------------------------------------------------------------------------------------- storage


def cache_dir() -> Path:
    """``.cache/pages/``, or the folder ``CVATTN_PAGE_CACHE_DIR`` names."""
    return Path(os.environ.get("CVATTN_PAGE_CACHE_DIR") or DEFAULT_CACHE_DIR)


def _path(key: str) -> Path:
    return cache_dir() / key[:2] / f"{key}.json"


def _load(key: str) -> Any | None:
    _state["used"].add(key)
    try:
        return json.loads(_path(key).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # absent, or cut short by an earlier crash: computed again
        return None


def _store(key: str, value: Any) -> None:
    """Keep ``value`` under ``key``; a value that is not plain data (JSON) is not kept."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except TypeError:  # e.g. something not plain data registered with autorefs: computed again next time
        return
    path = _path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: a reader sees the old entry or the whole new one


# ---------------------------------------------------------------------------------------------- toc


def _toc_out(items: list[AnchorLink]) -> list[dict]:
    return [{"title": a.title, "id": a.id, "level": a.level, "children": _toc_out(a.children)} for a in items]


def _toc_in(items: list[dict]) -> list[AnchorLink]:
    out = []
    for item in items:
        link = AnchorLink(item["title"], item["id"], item["level"])
        link.children = _toc_in(item["children"])
        out.append(link)
    return out


# ---------------------------------------------------------------------------------------------- conversion


class _WarningCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


class _Recorder:
    """Records the calls made to one method of an object while a page is converted."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner, self.name, self.calls = owner, name, []
        self.original = getattr(owner, name) if owner is not None else None

    def __enter__(self) -> _Recorder:
        if self.owner is not None:
            original = self.original

            def record(*args: Any, **kwargs: Any) -> Any:
                self.calls.append((list(args), kwargs))
                return original(*args, **kwargs)

            setattr(self.owner, self.name, record)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.owner is not None:
            setattr(self.owner, self.name, self.original)


def _autorefs(config) -> Any | None:
    return config.plugins.get("autorefs")


def _inventory(config) -> Any | None:
    plugin = config.plugins.get("mkdocstrings")
    try:
        return plugin.handlers.inventory if plugin is not None else None
    except Exception:  # handlers not set up (mkdocstrings disabled)
        return None


def _render_key(page: Page, config) -> str:
    markdown = page.markdown or ""
    return _sha(
        FORMAT,
        _state["base"],
        _state["files"],
        _state["api"] if "::: " in markdown else "",
        config["theme"].get("language"),
        page.file.src_uri,
        page.url,
        markdown,
    )


_original_render = Page.render


def _cached_render(self: Page, config, files) -> None:
    if not (enabled() and _state["base"]):
        return _original_render(self, config, files)
    key = _render_key(self, config)
    hit = _load(key)
    if hit is not None:
        _state["hits"] += 1
        self.content = hit["content"]
        self.toc = TableOfContents(_toc_in(hit["toc"]))
        self._title_from_render = hit["title"]
        self.present_anchor_ids = set(hit["anchors"])
        links = {}
        for src_uri, anchors in hit["links_to_anchors"].items():
            target = files.get_file_from_path(src_uri)
            if target is not None:
                links[target] = anchors
        self.links_to_anchors = links
        autorefs, inventory = _autorefs(config), _inventory(config)
        for args, kwargs in hit["autorefs"]:
            if autorefs is not None:
                autorefs.register_anchor(self, *args, **kwargs)
        for kwargs in hit["inventory"]:
            if inventory is not None:
                inventory.register(**kwargs)
        return None
    _state["misses"] += 1
    counter = _WarningCounter()
    loggers = [logging.getLogger(), logging.getLogger("mkdocs")]  # mkdocs' own logger does not propagate
    for logger in loggers:
        logger.addHandler(counter)
    try:
        with (
            _Recorder(_autorefs(config), "register_anchor") as anchors,
            _Recorder(_inventory(config), "register") as items,
        ):
            _original_render(self, config, files)
    finally:
        for logger in loggers:
            logger.removeHandler(counter)
    if counter.count:
        return None  # a warning must be seen again: not kept
    entry = {
        "content": self.content,
        "toc": _toc_out(self.toc.items),
        "title": self._title_from_render,
        "anchors": sorted(self.present_anchor_ids or ()),
        "links_to_anchors": {f.src_uri: dict(a) for f, a in (self.links_to_anchors or {}).items()},
        # autorefs is called as register_anchor(page, identifier, anchor, title=..., primary=...)
        "autorefs": [(args[1:], kwargs) for args, kwargs in anchors.calls if args and args[0] is self],
        "inventory": [_inventory_kwargs(args, kwargs) for args, kwargs in items.calls],
    }
    _store(key, entry)
    return None


def _inventory_kwargs(args: list, kwargs: dict) -> dict:
    names = ("name", "domain", "role", "uri", "priority", "dispname")
    return {**dict(zip(names, args, strict=False)), **kwargs}  # fewer positional arguments than names


# ---------------------------------------------------------------------------------------------- API blocks
#
# A page whose Markdown changed is converted again, its API block (``::: cvattn.X``) included, and rendering
# that block costs more than the rest of the page: griffe loads the whole package (about a second) before the
# templates run. The block's HTML follows from the block, the package's sources, the templates and mkdocstrings'
# locale, so it is kept on its own: editing an entry's text re-converts its page without griffe, and the twin of a
# page in another language (same block, other URL) reuses it, which halves the API rendering of a cold build. The
# HTML holds no URL (cross-references stay autorefs placeholders until each page resolves them); a block whose
# HTML names its page's URL is keyed on the URL too. A hit restores the headings the block hands to the table of
# contents and replays the autorefs anchors and inventory items they register on the current page, as a page hit
# does (an item's URI is kept relative to the page it was recorded on).


def _block_key(processor: Any, identifier: str, yaml_block: str, heading_level: int, url: str | None = None) -> str:
    """The key of an API block's rendering; ``url``: the page's, for a block whose HTML names it."""
    return _sha(
        FORMAT,
        "api-block",
        _state["base"],
        _state["api"],
        _state["templates"],
        getattr(processor._handlers, "_locale", None),
        url,
        identifier,
        yaml_block,
        heading_level,
    )


def _relative_uri(item: dict, page_url: str) -> dict:
    """An inventory item with its URI relative to the page it was registered on (``{"page_uri": suffix}``)."""
    uri = item.get("uri")
    if isinstance(uri, str) and page_url and uri.startswith(page_url):
        item = {k: v for k, v in item.items() if k != "uri"}
        item["page_uri"] = uri[len(page_url) :]
    return item


def _absolute_uri(item: dict, page_url: str) -> dict:
    """The inverse of :func:`_relative_uri`, on the page the item is registered on now."""
    if "page_uri" not in item:
        return item
    item = dict(item)
    item["uri"] = page_url + item.pop("page_uri")
    return item


def _patch_mkdocstrings() -> None:
    try:
        import yaml
        from mkdocstrings._internal.extension import AutoDocProcessor
    except ImportError:
        return
    if getattr(AutoDocProcessor, "_cvattn_cached", False):
        return
    process_block, process_headings = AutoDocProcessor._process_block, AutoDocProcessor._process_headings

    def _process_block(self, identifier: str, yaml_block: str, heading_level: int = 0):
        self._cvattn_block = None
        if not (enabled() and _state["base"]) or self._autorefs.current_page is None:
            return process_block(self, identifier, yaml_block, heading_level)
        url = self._autorefs.current_page.url
        hit = _load(_block_key(self, identifier, yaml_block, heading_level))
        if hit is None and url:
            hit = _load(_block_key(self, identifier, yaml_block, heading_level, url))
        if hit is not None:
            handler = self._handlers.get_handler(
                self._handlers.get_handler_name(yaml.safe_load(yaml_block) or {})
            )
            if handler.outer_layer:
                _state["api_hits"] += 1
                self._cvattn_block = ("hit", hit)
                return hit["html"], handler, None
        counter = _WarningCounter()
        loggers = [logging.getLogger(), logging.getLogger("mkdocs")]
        for logger in loggers:
            logger.addHandler(counter)
        try:
            html, handler, data = process_block(self, identifier, yaml_block, heading_level)
        finally:
            for logger in loggers:
                logger.removeHandler(counter)
        if handler.outer_layer and not counter.count:  # a block that warns must warn again: not kept
            own = url if url and url in html else None
            self._cvattn_block = ("miss", _block_key(self, identifier, yaml_block, heading_level, own), html)
        return html, handler, data

    def _process_headings(self, handler, element) -> None:
        state, self._cvattn_block = getattr(self, "_cvattn_block", None), None
        page = self._autorefs.current_page
        if state is None or page is None:
            return process_headings(self, handler, element)
        if state[0] == "hit":
            hit = state[1]
            for tag, attrib, text in hit["headings"]:
                heading = SubElement(element, tag, attrib)
                heading.text = text
            for args, kwargs in hit["autorefs"]:
                self._autorefs.register_anchor(page, *args, **kwargs)
            for kwargs in hit["inventory"]:
                self._handlers.inventory.register(**_absolute_uri(kwargs, page.url))
            return None
        _, key, html = state
        before = len(element)
        with (
            _Recorder(self._autorefs, "register_anchor") as anchors,
            _Recorder(self._handlers.inventory, "register") as items,
        ):
            process_headings(self, handler, element)
        _store(
            key,
            {
                "html": html,
                "headings": [(e.tag, dict(e.attrib), e.text) for e in list(element)[before:]],
                "autorefs": [
                    (args[1:], kwargs) for args, kwargs in anchors.calls if args and args[0] is page
                ],
                "inventory": [
                    _relative_uri(_inventory_kwargs(args, kwargs), page.url) for args, kwargs in items.calls
                ],
            },
        )
        return None

    AutoDocProcessor._process_block = _process_block
    AutoDocProcessor._process_headings = _process_headings
    AutoDocProcessor._cvattn_cached = True


# ---------------------------------------------------------------------------------------------- theme files
#
# Every build (each language's too) lists the theme's static files by walking its folders and matching each of
# their ~14,500 paths (Material's icons) against some twenty patterns: about 0.4 s a language. Which files that
# finds follows from the installed theme (its version is in the base key), the folders of the theme inside the
# project (``custom_dir``: the names of their files) and the theme's static templates; the list is kept, and the
# files the docs folder already has still take precedence, as in mkdocs.


def _is_project_dir(folder: Path) -> bool:
    """A theme folder of the project itself (``custom_dir``), not an installed theme: a virtual environment
    inside the checkout (``.venv``) holds Material's folders too, and walking them is what the list saves."""
    return folder.is_relative_to(ROOT) and not folder.is_relative_to(Path(sys.prefix).resolve())


def _listing(folder: Path) -> str:
    return _sha(*sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()))


def _patch_theme_files() -> None:
    from mkdocs.structure.files import File, Files

    if getattr(Files, "_cvattn_cached", False):
        return
    original = Files.add_files_from_theme

    def add_files_from_theme(self, env, config) -> None:
        if not (enabled() and _state["base"]):
            return original(self, env, config)
        dirs = [Path(d).resolve() for d in config.theme.dirs]
        key = _sha(
            FORMAT,
            "theme-files",
            _state["base"],
            json.dumps([str(d) for d in dirs]),
            json.dumps(sorted(config.theme.static_templates)),
            *(_listing(d) for d in dirs if _is_project_dir(d)),
        )
        found = _load(key)
        if found is None:
            probe = Files([])
            original(probe, env, config)
            found = [[f.src_uri, f.src_dir] for f in probe]
            _store(key, found)
        for path, folder in found:
            if self.get_file_from_path(path) is None:  # theme files do not override docs_dir files
                self.append(File(path, folder, config.site_dir, config.use_directory_urls))
        return None

    Files.add_files_from_theme = add_files_from_theme
    Files._cvattn_cached = True


# ---------------------------------------------------------------------------------------------- search


def _search_key(page: Page, options: dict) -> str:
    try:
        from material.plugins.search import plugin as search_plugin
    except ImportError:
        search_plugin = None
    cutter = getattr(search_plugin, "jieba", None)
    if hasattr(cutter, "state_key"):  # hooks/search.py's stand-in: the dictionary state without loading it
        words = cutter.state_key()
    elif cutter is not None:
        words = (len(cutter.dt.FREQ), cutter.dt.total) if cutter.dt.initialized else "uninitialised"
    else:
        words = "-"
    return _sha(
        FORMAT,
        _state["base"],
        page.url,
        page.title,
        page.content,
        json.dumps(_toc_out(page.toc.items)),
        json.dumps(page.meta, sort_keys=True, default=str),
        json.dumps(options, sort_keys=True, default=str),
        words,
    )


def _patch_search() -> None:
    try:
        from material.plugins.search.plugin import SearchIndex
    except ImportError:
        return
    if getattr(SearchIndex, "_cvattn_cached", False):
        return
    original = SearchIndex.add_entry_from_context

    def add_entry_from_context(self, page) -> None:
        if not (enabled() and _state["base"]):
            return original(self, page)
        key = _search_key(page, self.config)
        hit = _load(key)
        if hit is not None:
            _state["hits"] += 1
            self.entries.extend(hit)
            return None
        _state["misses"] += 1
        start = len(self.entries)
        original(self, page)
        _store(key, self.entries[start:])
        return None

    SearchIndex.add_entry_from_context = add_entry_from_context
    SearchIndex._cvattn_cached = True


# ---------------------------------------------------------------------------------------------- templates
# The theme's rendering of a page (the part of a rebuild that remains once conversion and search are reused)
# depends on the page (content after every page_context hook, table of contents, title, front matter, URL),
# the navigation, the language and config, what plugins add to the template context, and the templates. On a
# hit, the context names cvattn-cached.html as main.html's layout, which writes the kept output; every
# post_page hook then runs on it as on a fresh rendering (the output is kept before them).

TEMPLATE_DIR = ROOT / "docs" / "overrides"
_CONTEXT_SKIP = {
    "nav",
    "pages",
    "config",
    "page",
    "build_date_utc",
    "base_url",
    "extra_css",
    "extra_javascript",
}


def _nav_out(items) -> list:
    return [
        [getattr(i, "title", None), getattr(i, "url", None), _nav_out(getattr(i, "children", None) or [])]
        for i in items
    ]


def _uses_our_templates(config) -> bool:
    """Whether the theme's main.html is ours, which honours ``cvattn_cached_layout``."""
    custom = config["theme"].custom_dir
    return bool(custom) and Path(custom).resolve() == TEMPLATE_DIR.resolve()


def _template_key(context, page: Page, config) -> str:
    extras = {k: v for k, v in context.items() if k not in _CONTEXT_SKIP}
    neighbours = [(p.title, p.url) if p else None for p in (page.previous_page, page.next_page)]
    return _sha(
        FORMAT,
        "template",
        _state["base"],
        _state["files"],
        _state.get("nav", ""),
        _state.get("templates", ""),
        config["theme"].get("language"),
        json.dumps(config.get("extra") or {}, sort_keys=True, default=str),
        context.get("base_url"),
        context.get("extra_css"),
        context.get("extra_javascript"),
        page.file.src_uri,
        page.url,
        page.title,
        page.canonical_url,
        page.edit_url,
        neighbours,
        [(a.title, getattr(a, "url", None)) for a in page.ancestors],
        json.dumps(page.meta, sort_keys=True, default=str),
        json.dumps(_toc_out(page.toc.items)),
        json.dumps(extras, sort_keys=True, default=str),
        page.content,
    )


@event_priority(-1000)  # after every plugin and hook that changes the page or the context (search, i18n)
def on_page_context(context, page, config, nav, **kwargs):
    if not (enabled() and _state["base"] and _uses_our_templates(config)):
        return context
    key = _template_key(context, page, config)
    page._cvattn_template_key = key
    hit = _load(key)
    if hit is not None:
        _state["hits"] += 1
        context["cvattn_cached_layout"] = "cvattn-cached.html"
        context["cvattn_cached_output"] = hit
    return context


@event_priority(1000)  # the output as the theme rendered it, before any post_page hook changes it
def on_post_page(output: str, page, config, **kwargs) -> str:
    key = getattr(page, "_cvattn_template_key", None)
    if key is not None:
        page._cvattn_template_key = None
        if not _path(key).exists():
            _state["misses"] += 1
            _store(key, output)
    return output


def on_env(env, config, files, **kwargs):
    """Compiled templates kept on disk (jinja's bytecode cache, checked against each template's source): each
    build, and each language's build within it, would otherwise compile the theme's ~80 templates again."""
    if enabled():
        import jinja2

        folder = cache_dir().parent / "jinja"
        folder.mkdir(parents=True, exist_ok=True)
        env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(folder))
    return env


@event_priority(-1000)
def on_nav(nav, config, files, **kwargs):
    _state["nav"] = _sha(json.dumps(_nav_out(nav.items)))
    return nav


# ---------------------------------------------------------------------------------------------- events


def on_config(config, **kwargs):
    if Page.render is not _cached_render:
        Page.render = _cached_render
    _patch_search()
    _patch_mkdocstrings()
    _patch_theme_files()
    if _state["base"] is None:
        config_file = Path(config.config_file_path)
        _state["base"] = _sha(
            config_file.read_bytes(),
            Path(__file__).read_bytes(),
            *(f"{name}={_version(name)}" for name in TOOLCHAIN),
        )
    return config


def _api_dirs(config) -> list[Path]:
    """The folders mkdocstrings' Python handler loads packages from (its ``paths``, relative to mkdocs.yml)."""
    plugin = config.plugins.get("mkdocstrings")
    handlers = (getattr(plugin, "config", None) or {}).get("handlers") or {}
    paths = (handlers.get("python") or {}).get("paths") or []
    base = Path(config.config_file_path).parent
    return sorted({(base / p).resolve() for p in paths}) or [PACKAGE_DIR]


def on_pre_build(config, **kwargs) -> None:
    """What may change between builds of one process (mkdocs serve): the package and the snippet files."""
    _state["api"] = _tree_digest(
        sorted(p for d in _api_dirs(config) for p in d.rglob("*.py") if "__pycache__" not in p.parts)
    )
    snippets = [ROOT / name for name in SNIPPET_FILES if (ROOT / name).exists()]
    _state["base_snippets"] = _tree_digest(snippets)
    _state["templates"] = _tree_digest(sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file()))


@event_priority(-1000)  # after every plugin that adds, drops or moves files (i18n)
def on_files(files, config, **kwargs):
    _state["files"] = _sha(
        _state.get("base_snippets", ""),
        *sorted(f"{f.src_uri}\0{f.url}\0{f.dest_uri}" for f in files),
    )
    return files


def on_post_build(config, **kwargs) -> None:
    if enabled():
        log.info(
            f"page cache: {_state['hits']} reused, {_state['misses']} computed"
            f" (API blocks reused in the pages computed: {_state['api_hits']})"
        )
    _state["hits"] = _state["misses"] = _state["api_hits"] = 0


def on_shutdown(**kwargs) -> None:
    """Remove the entries that no build of this process used (the cache holds one site's worth)."""
    if not (enabled() and _state["used"] and cache_dir().exists()):
        return
    for path in cache_dir().glob("*/*.json"):
        if path.stem not in _state["used"]:
            path.unlink(missing_ok=True)
