"""The page cache (hooks/pagecache.py): a rebuild reuses what did not change, gives the same site, and never hides
a warning. Small MkDocs projects with only that hook, built in a subprocess; and the real site rebuilt from the
cache that the session's build filled."""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.site.conftest import ROOT, build_site

HOOK = ROOT / "hooks" / "pagecache.py"


def _project(tmp_path: Path, pages: dict[str, str]) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in pages.items():
        (docs / name).write_text(textwrap.dedent(text), encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        textwrap.dedent(
            f"""\
            site_name: t
            hooks: [{HOOK}]
            markdown_extensions: [toc, attr_list]
            validation: {{links: {{not_found: warn, anchors: warn}}}}
            """
        ),
        encoding="utf-8",
    )
    return tmp_path


def _build(project: Path, cache: Path) -> tuple[int, str, tuple[int, int]]:
    env = {
        **os.environ,
        "CVATTN_PAGE_CACHE_DIR": str(cache),
        "NO_MKDOCS_2_WARNING": "1",
        "SOURCE_DATE_EPOCH": "0",
    }
    run = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(project / "site")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r"page cache: (\d+) reused, (\d+) computed", run.stderr)
    return run.returncode, run.stderr, (int(found[1]), int(found[2])) if found else (-1, -1)


PAGES = {
    "index.md": "# Home\n\nSee [the other page](other.md#part-two).\n",
    "other.md": "# Other\n\n## Part one\n\ntext\n\n## Part two\n\nmore text\n",
}


def test_a_rebuild_reuses_every_page_and_writes_the_same_html(tmp_path):
    project, cache = _project(tmp_path, PAGES), tmp_path / "cache"
    code, log, counts = _build(project, cache)
    assert code == 0, log
    assert counts == (0, 2)  # two pages converted, nothing to reuse yet
    first = {p: p.read_bytes() for p in (project / "site").rglob("*.html")}
    theme_files = sorted(
        p.relative_to(project / "site") for p in (project / "site").rglob("*") if p.is_file()
    )
    assert any(p.suffix == ".css" for p in theme_files)  # the theme's static files were listed and copied
    code, log, counts = _build(project, cache)
    assert code == 0, log
    assert counts == (2, 0)
    assert {p: p.read_bytes() for p in (project / "site").rglob("*.html")} == first
    # the second build took the theme's file list from the cache: the same files
    assert (
        sorted(p.relative_to(project / "site") for p in (project / "site").rglob("*") if p.is_file())
        == theme_files
    )


def test_only_the_edited_page_is_converted_again(tmp_path):
    project, cache = _project(tmp_path, PAGES), tmp_path / "cache"
    assert _build(project, cache)[0] == 0
    (project / "docs" / "other.md").write_text(PAGES["other.md"] + "\n## Part three\n", encoding="utf-8")
    code, log, counts = _build(project, cache)
    assert code == 0, log
    assert counts == (1, 1)
    html = (project / "site" / "other" / "index.html").read_text(encoding="utf-8")
    assert 'id="part-three"' in html  # the new heading is in the page and its table of contents
    assert html.count('href="#part-three"') >= 1


def test_a_warning_is_never_cached_away(tmp_path):
    """A page whose conversion warns is converted (and warns) again: a strict build fails every time."""
    pages = {**PAGES, "index.md": "# Home\n\nA [link to nowhere](missing.md).\n"}
    project, cache = _project(tmp_path, pages), tmp_path / "cache"
    for _ in range(2):
        code, log, _ = _build(project, cache)
        assert code != 0 and "missing.md" in log


def test_a_page_linking_to_a_removed_page_warns_again(tmp_path):
    """The files of the build are part of every key: removing a link's target converts its linkers again."""
    project, cache = _project(tmp_path, PAGES), tmp_path / "cache"
    assert _build(project, cache)[0] == 0
    (project / "docs" / "other.md").unlink()
    code, log, _ = _build(project, cache)
    assert code != 0 and "other.md" in log


def test_turned_off_it_converts_everything(tmp_path):
    project, cache = _project(tmp_path, PAGES), tmp_path / "cache"
    assert _build(project, cache)[0] == 0
    os.environ["CVATTN_PAGE_CACHE"] = "0"
    try:
        code, log, counts = _build(project, cache)
    finally:
        del os.environ["CVATTN_PAGE_CACHE"]
    assert code == 0 and counts == (-1, -1)  # no cache line: nothing reused


def _files(root: Path) -> dict[Path, bytes]:
    return {
        p.relative_to(root): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.suffix in {".html", ".json"}
    }


def test_the_real_site_from_the_cache_is_the_site_built_without_it(site, tmp_path, monkeypatch):
    """The session's strict build filled .cache/pages/; a build that reuses it (API blocks, search entries, theme
    renderings) and a build with the cache turned off write the same HTML and search indexes, both languages."""
    cached, fresh = tmp_path / "cached", tmp_path / "fresh"
    build_site(cached)
    monkeypatch.setenv("CVATTN_PAGE_CACHE", "0")
    build_site(fresh)
    want = _files(fresh)
    for built in (site, cached):
        got = _files(built)
        assert sorted(got) == sorted(want)
        differ = [str(n) for n in want if got[n] != want[n]]
        assert not differ, differ[:10]


def _api_project(tmp_path: Path) -> Path:
    package = tmp_path / "src" / "toypkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        textwrap.dedent(
            '''\
            """A toy package."""


            class Gate:
                """A gate.

                Args:
                    channels: input channels.
                """

                def __init__(self, channels: int = 8) -> None:
                    self.channels = channels

                def forward(self, x):
                    """Apply the gate."""
                    return x
            '''
        ),
        encoding="utf-8",
    )
    project = _project(
        tmp_path, {"index.md": "# Home\n\nSee [Gate](api.md#toypkg.Gate).\n", "api.md": API_PAGE}
    )
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    config += textwrap.dedent(
        f"""\
        plugins:
          - autorefs
          - mkdocstrings:
              handlers:
                python:
                  paths: [{tmp_path / "src"}]
                  options: {{show_root_heading: true}}
        """
    )
    (project / "mkdocs.yml").write_text(config, encoding="utf-8")
    return project


API_PAGE = "# API\n\nSome text.\n\n::: toypkg.Gate\n"


def test_an_edited_page_reuses_its_api_block(tmp_path, monkeypatch):
    """Editing the text around an API block converts the page again but not the block: the page, its table of
    contents, the anchors autorefs resolves and the inventory are those of a build without the cache."""
    project, cache = _api_project(tmp_path), tmp_path / "cache"
    assert _build(project, cache)[0] == 0
    (project / "docs" / "api.md").write_text(API_PAGE.replace("Some text.", "Other text."), encoding="utf-8")
    code, log, counts = _build(project, cache)
    assert code == 0, log
    assert counts == (1, 1) and "API blocks reused in the pages computed: 1" in log
    cached = _files(project / "site") | {Path("objects.inv"): (project / "site" / "objects.inv").read_bytes()}
    assert (
        b'id="toypkg.Gate"' in cached[Path("api/index.html")]
        and b"Other text." in cached[Path("api/index.html")]
    )
    monkeypatch.setenv("CVATTN_PAGE_CACHE", "0")
    assert _build(project, cache)[0] == 0
    fresh = _files(project / "site") | {Path("objects.inv"): (project / "site" / "objects.inv").read_bytes()}
    assert cached == fresh


def test_an_edited_package_renders_the_api_block_again(tmp_path):
    project, cache = _api_project(tmp_path), tmp_path / "cache"
    assert _build(project, cache)[0] == 0
    source = tmp_path / "src" / "toypkg" / "__init__.py"
    source.write_text(source.read_text().replace("A gate.", "A better gate."), encoding="utf-8")
    (project / "docs" / "api.md").write_text(API_PAGE + "\nMore.\n", encoding="utf-8")
    code, log, _ = _build(project, cache)
    assert code == 0, log
    assert "API blocks reused in the pages computed: 0" in log
    assert b"A better gate." in (project / "site" / "api" / "index.html").read_bytes()


def test_the_twin_of_a_page_in_another_language_reuses_its_api_block(tmp_path, monkeypatch):
    """mkdocs-static-i18n builds api.md and api.zh.md in turn, each with the same API block at another URL: a
    cold build renders the block once and the zh build reuses it; the pages and the inventory (URIs recorded on
    the en page, replayed on the zh one) are those of a build without the cache."""
    project, cache = _api_project(tmp_path), tmp_path / "cache"
    (project / "docs" / "index.zh.md").write_text("# 首页\n\n见 [Gate](api.md#toypkg.Gate)。\n", encoding="utf-8")
    (project / "docs" / "api.zh.md").write_text(API_PAGE.replace("Some text.", "一些文字。"), encoding="utf-8")
    config = (project / "mkdocs.yml").read_text(encoding="utf-8")
    config = config.replace(
        "plugins:\n",
        "plugins:\n  - i18n:\n      docs_structure: suffix\n      languages:\n"
        "        - {locale: en, default: true, name: English, build: true}\n"
        "        - {locale: zh, name: 中文, build: true}\n",
    )
    (project / "mkdocs.yml").write_text(config, encoding="utf-8")
    code, log, _ = _build(project, cache)
    assert code == 0, log
    reused = [int(n) for n in re.findall(r"API blocks reused in the pages computed: (\d+)", log)]
    assert reused and reused[-1] == 1, log  # the zh build: its page converted, its block the en page's
    cached = _files(project / "site") | {Path("objects.inv"): (project / "site" / "objects.inv").read_bytes()}
    assert 'id="toypkg.Gate"' in (project / "site" / "zh" / "api" / "index.html").read_text(encoding="utf-8")
    monkeypatch.setenv("CVATTN_PAGE_CACHE", "0")
    assert _build(project, cache)[0] == 0
    fresh = _files(project / "site") | {Path("objects.inv"): (project / "site" / "objects.inv").read_bytes()}
    assert cached == fresh
