"""Shared fixtures for site tests: one strict build of the real site per test worker, a local server."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scripts.catalog import ROOT

ARTIFACTS = ROOT / "test-artifacts"


LOCK = ROOT / ".cache" / "test-site.lock"


@contextlib.contextmanager
def build_lock():
    """Builds write the generated pages into docs/catalog/: one build at a time across test workers."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_site(site_dir: Path, catalog_dir: Path | None = None) -> float:
    """Strict mkdocs build into ``site_dir`` (serialised with other builds); returns the seconds it took."""
    with build_lock():
        return _build(site_dir, catalog_dir)


def _build(site_dir: Path, catalog_dir: Path | None) -> float:
    start = time.perf_counter()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if catalog_dir is not None:
        env["CVATTN_CATALOG"] = str(catalog_dir)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--site-dir", str(site_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return time.perf_counter() - start


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    first = tmp_path_factory.mktemp("site1")
    build_site(first)
    return first


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def serve():
    """Serve a built site under /cvattn/ on 127.0.0.1 (a free port); stopped when the tests end."""
    servers = []

    def start(site_dir: Path, root: Path) -> str:
        (root / "cvattn").symlink_to(site_dir, target_is_directory=True)
        handler = functools.partial(_Quiet, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/cvattn/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
