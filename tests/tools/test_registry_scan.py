"""The source scan's file cache: a changed file is parsed again, an unchanged one is not, and the cache never
changes what the scan returns."""

from __future__ import annotations

import json

from scripts import registry_scan

MODULE = """
from cvattn import register


class Base:
    def __init__(self, channels, reduction=16):
        pass


@register("toy", kind="attention", inputs=(8, 4, 4), channels=8)
class Toy(Base):
    pass
"""


def test_cache_is_reused_and_follows_edits(tmp_path, monkeypatch):
    monkeypatch.setattr(registry_scan, "CACHE_DIR", tmp_path / "cache")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "toy.py").write_text(MODULE)
    calls = []
    real = registry_scan._facts
    monkeypatch.setattr(registry_scan, "_facts", lambda *a: calls.append(a[1]) or real(*a))

    def scan():
        registry_scan._all_facts.cache_clear()  # a new process: only the file cache is left
        return registry_scan.scan_details(package), registry_scan.scan_code(package)

    details, code = scan()
    assert details == {"toy": ("pkg.toy.Toy", ((8, 4, 4),), 1)}
    assert code["toy"].signature == "Toy(channels, reduction=16)"  # inherited __init__
    assert code["toy"].config == "channels=8"
    assert len(calls) == 1
    assert scan() == (details, code) and len(calls) == 1  # unchanged: read from the cache file
    (package / "toy.py").write_text(MODULE.replace("reduction=16", "reduction=4"))
    assert scan()[1]["toy"].signature == "Toy(channels, reduction=4)" and len(calls) == 2
    (package / "other.py").write_text("x = 1\n")
    scan()
    files = json.loads(next((tmp_path / "cache").glob("registry-scan-*.json")).read_text())["files"]
    assert len(files) == 2  # the old version of toy.py is not kept


def test_cache_off_and_unreadable_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(registry_scan, "CACHE_DIR", tmp_path / "cache")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "toy.py").write_text(MODULE)
    registry_scan._all_facts.cache_clear()
    first = registry_scan.scan_details(package)
    cache = next((tmp_path / "cache").glob("registry-scan-*.json"))
    cache.write_text("{not json")
    registry_scan._all_facts.cache_clear()
    assert registry_scan.scan_details(package) == first  # a broken cache file is ignored, then rewritten
    assert json.loads(cache.read_text())["files"]
    monkeypatch.setenv("CVATTN_SCAN_CACHE", "0")
    cache.unlink()
    registry_scan._all_facts.cache_clear()
    assert registry_scan.scan_details(package) == first
    assert not cache.exists()
