"""MkDocs hook: validate the catalogue and render it into docs/catalog/ before every build.

mkdocs-static-i18n builds each language in turn and calls the hooks each time: the catalogue is loaded
and the pages written once per process, and re-done only when a catalogue file changed (mkdocs serve).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.plugins import event_priority  # noqa: E402

from scripts import render  # noqa: E402
from scripts.catalog import CATALOG_DIR, CatalogError, load_or_raise  # noqa: E402
from scripts.site import generate, write_if_changed  # noqa: E402

log = logging.getLogger("mkdocs.hooks.catalog")
_state: dict[str, object] = {"stamp": None, "catalog": None}
HOME_MARKER = "<!-- cvattn:home -->"


def _stamp() -> tuple:
    return tuple(sorted((str(p), p.stat().st_mtime_ns) for p in CATALOG_DIR.rglob("*.yaml")))


def _catalog():
    """The validated catalogue, re-read only when a catalogue file changed since the last call."""
    stamp = _stamp()
    if _state["stamp"] != stamp:
        try:
            _state.update(catalog=load_or_raise(), stamp=stamp, generated=False)
        except CatalogError as exc:
            raise PluginError(str(exc)) from None
    return _state["catalog"]


def _find_section(nav: list, title: str) -> list | None:
    for item in nav:
        if isinstance(item, dict):
            for key, value in item.items():
                if key == title and isinstance(value, list):
                    return value
                if isinstance(value, list) and (found := _find_section(value, title)) is not None:
                    return found
    return None


def on_config(config, **kwargs):
    """Append one navigation entry per category, in the order of catalog/categories.yaml."""
    catalog = _catalog()
    section = _find_section(config["nav"] or [], "Categories")
    if section is not None:
        pages = [f"{render.GENERATED_DIR}/categories/{c.id}.md" for c in catalog.categories]
        section[:] = [item for item in section if item not in pages] + pages
    return config


def on_pre_build(config, **kwargs) -> None:
    catalog = _catalog()
    if _state.get("generated"):
        return
    written, removed = generate(catalog, Path(config["docs_dir"]))
    log.info(
        f"catalogue: {len(catalog.papers)} entries; {written} generated file(s) written, {removed} removed"
    )
    _state["generated"] = True


def on_serve(server, config, builder, **kwargs):
    """Watch the catalogue; watch docs/ without the pages this hook generates into it.

    Each rebuild writes the generated pages that changed into docs/catalog/, and with the whole of docs/ watched
    that write started a second, needless rebuild (and reload) after every edit.
    """
    server.watch(str(CATALOG_DIR))
    docs = Path(config["docs_dir"]).resolve()
    try:
        server.unwatch(str(docs))
    except KeyError:  # not watched (mkdocs serve --no-livereload): nothing to narrow
        return server
    server.watch(str(docs), recursive=False)
    generated = docs / render.GENERATED_DIR
    for child in sorted(docs.iterdir()):
        if child.is_dir() and child != generated:
            server.watch(str(child))
    return server


def on_page_markdown(markdown: str, page, config, files, **kwargs) -> str:
    if HOME_MARKER not in markdown:
        return markdown
    lang = "zh" if page.file.src_uri.endswith(".zh.md") else "en"
    return markdown.replace(HOME_MARKER, render.home_block(_state["catalog"], lang))


# The toc extension's permalink title is one option for both languages; Chinese pages get their own.
PERMALINK_TITLE = {"zh": 'title="永久链接"'}


def on_page_content(html: str, page, config, files, **kwargs) -> str:
    lang = "zh" if page.file.src_uri.endswith(".zh.md") else "en"
    if lang in PERMALINK_TITLE:
        html = html.replace('title="Permanent link"', PERMALINK_TITLE[lang])
    return html


# mkdocstrings writes objects.inv (the API inventory, for other projects' cross-references) into the site root in each
# language build, so the last, Chinese, build replaced the English one and every URI pointed at a zh/ page. The
# inventory of the default language's build is kept and put back after the last build.
INVENTORY = "objects.inv"


def _i18n(config):
    return config.plugins.get("i18n")


@event_priority(-30)  # after mkdocstrings has written the inventory (-20)
def on_env(env, config, files, **kwargs):
    i18n = _i18n(config)
    if i18n is None or getattr(i18n, "is_default_language_build", True):
        path = Path(config["site_dir"]) / INVENTORY
        _state["inventory"] = (path, path.read_bytes()) if path.is_file() else None
    return env


@event_priority(-300)  # after mkdocs-static-i18n (-100) has built the other languages
def on_post_build(config, **kwargs) -> None:
    i18n = _i18n(config)
    if i18n is None or getattr(i18n, "building", False) or not _state.get("inventory"):
        return
    write_if_changed(*_state.pop("inventory"))
