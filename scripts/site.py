"""Write the generated pages into docs/ (only files whose content changed) and build the site."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import render
from .catalog import ROOT, Catalog

DOCS_DIR = ROOT / "docs"
SITE_DIR = ROOT / "site"


def api_paths() -> dict[str, str]:
    """Import path of every registered module's class, for mkdocstrings."""
    import cvattn

    return {
        i: f"{cvattn.get_spec(i).cls.__module__}.{cvattn.get_spec(i).cls.__qualname__}"
        for i in cvattn.list_modules()
    }


def write_if_changed(path: Path, content: str) -> bool:
    """Atomically write ``content`` to ``path`` unless it already holds exactly that; True when written."""
    data = content.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return True


def generate(catalog: Catalog, docs_dir: Path = DOCS_DIR) -> tuple[int, int]:
    """Write every generated page under ``docs_dir/catalog``; remove generated files no longer produced.

    Returns:
        (files written, files removed)
    """
    pages = render.site_pages(catalog, api_paths())
    written = sum(write_if_changed(docs_dir / rel, content) for rel, content in pages.items())
    root = docs_dir / render.GENERATED_DIR
    removed = 0
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.relative_to(docs_dir).as_posix() not in pages:
            path.unlink()
            removed += 1
    return written, removed


def mkdocs_build(site_dir: Path = SITE_DIR, strict: bool = True) -> None:
    """Build into a temporary folder, then swap it in: a failed build leaves the old site untouched."""
    tmp = site_dir.with_name(site_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    cmd = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--clean",
        "--site-dir",
        str(tmp),
        "--config-file",
        str(ROOT / "mkdocs.yml"),
    ]
    if strict:
        cmd.append("--strict")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's end-of-life banner would bury real warnings
    result = subprocess.run(cmd, cwd=ROOT, env=env)
    if result.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RuntimeError(f"mkdocs build failed (exit {result.returncode}); the previous site/ is unchanged")
    old = site_dir.with_name(site_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if site_dir.exists():
        site_dir.rename(old)
    tmp.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)
