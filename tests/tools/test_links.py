"""Link checking against a local server on 127.0.0.1: exactly the broken links fail, transient ones are retried."""

from __future__ import annotations

import http.server
import socketserver
import threading
import time
from pathlib import Path

import pytest
import tomllib

from scripts import links


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args):
        pass

    def _answer(self, code, headers=(), body=b"ok"):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command == "GET":
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the checker gave up on a slow answer
                pass

    def do_GET(self):
        n = self.hits[self.path] = self.hits.get(self.path, 0) + 1
        if self.path == "/ok":
            self._answer(200)
        elif self.path == "/moved":
            self._answer(301, [("Location", "/ok")])
        elif self.path == "/missing":
            self._answer(404)
        elif self.path == "/busy":  # rate-limited once, then fine
            self._answer(429, [("Retry-After", "1")]) if n == 1 else self._answer(200)
        elif self.path == "/page":  # a page with anchors, for fragment checks
            html = b'<!doctype html><html><body><h2 id="results">R</h2><a name="usage">U</a></body></html>'
            self._answer(200, [("Content-Type", "text/html; charset=utf-8")], html)
        elif self.path == "/slow":
            time.sleep(3)
            self._answer(200)
        else:
            self._answer(404)

    do_HEAD = do_GET


@pytest.fixture
def server():
    _Handler.hits = {}
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "lychee.toml"
    path.write_text(
        'max_retries = 2\nretry_wait_time = 1\ntimeout = 1\ncache = false\naccept = ["200..=299"]\n',
        encoding="utf-8",
    )
    return path


def test_online_reports_exactly_the_broken_and_retries_transient(server, config):
    sources = [
        links.UrlSource(f"{server}/{name}", f"catalog/papers/{name}.yaml", "links.code")
        for name in ("ok", "moved", "missing", "busy", "slow")
    ]
    problems = links.check_online(sources, config=config)
    broken = [p for p in problems if not p.transient]
    transient = [p for p in problems if p.transient]
    assert [(p.url, p.where) for p in broken] == [
        (f"{server}/missing", "catalog/papers/missing.yaml: links.code")
    ]
    assert [p.url for p in transient] == [f"{server}/slow"]
    assert _Handler.hits["/busy"] >= 2, "a 429 must be retried"
    assert "404" in str(broken[0]) and "broken" in str(broken[0])


def test_online_maps_one_url_to_every_entry_using_it(server, config):
    url = f"{server}/missing"
    sources = [
        links.UrlSource(url, "catalog/papers/a.yaml", "links.paper"),
        links.UrlSource(url, "catalog/papers/b.yaml", "links.blogs.0.url"),
    ]
    problems = links.check_online(sources, config=config)
    assert sorted(p.where for p in problems) == [
        "catalog/papers/a.yaml: links.paper",
        "catalog/papers/b.yaml: links.blogs.0.url",
    ]
    assert _Handler.hits["/missing"] == 1, "each URL is requested once"


def _page(path: Path, body: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><body>{body}</body></html>", encoding="utf-8")


def test_offline_finds_missing_pages_and_fragments(tmp_path):
    site = tmp_path / "site"
    _page(
        site / "index.html",
        '<h2 id="here">x</h2><a href="a/">a</a><a href="a/#there">frag</a>'
        '<a href="nowhere/">gone</a><a href="a/#missing">bad fragment</a>'
        '<a href="/prefix/a/">rooted</a><a href="https://example.org/x">external</a>',
    )
    _page(site / "a" / "index.html", '<p id="there">t</p><a href="../#here">back</a>')
    problems = links.check_site_offline(site, "prefix")
    urls = sorted(p.url for p in problems)
    assert len(urls) == 2, problems
    assert any("nowhere" in u for u in urls) and any("missing" in u for u in urls)
    assert all(p.where == "index.html" for p in problems)


def test_syntax_check():
    bad = links.syntax_problems(
        [
            ("https://ok.org/a", "x"),
            ("http//missing-colon", "y"),
            ("https://exa mple.org", "z"),
            ("https://host:99999999/", "w"),
        ]
    )
    assert sorted(p.where for p in bad) == ["w", "y", "z"]


def test_online_config_checks_fragments():
    """The project's lychee.toml turns on anchor checks for the online mode."""
    config = tomllib.loads(links.CONFIG.read_text(encoding="utf-8"))
    assert config.get("include_fragments") in ("anchor-only", "full")


def test_online_reports_a_missing_anchor(server, tmp_path):
    """With the project's fragment setting, a link to an anchor the page lacks is broken; ids and names count."""
    setting = tomllib.loads(links.CONFIG.read_text(encoding="utf-8"))["include_fragments"]
    config = tmp_path / "lychee.toml"
    config.write_text(
        f'max_retries = 1\ntimeout = 5\ncache = false\naccept = ["200..=299"]\ninclude_fragments = "{setting}"\n',
        encoding="utf-8",
    )
    sources = [
        links.UrlSource(f"{server}/page#{anchor}", f"catalog/papers/{anchor}.yaml", "results.0.source_url")
        for anchor in ("results", "usage", "renamed-section")
    ]
    problems = links.check_online(sources, config=config)
    assert [(p.url, p.where, p.transient) for p in problems] == [
        (f"{server}/page#renamed-section", "catalog/papers/renamed-section.yaml: results.0.source_url", False)
    ]
    assert "fragment" in problems[0].status.lower()
