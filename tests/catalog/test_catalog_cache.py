"""The validated-catalogue cache: a default load of an unchanged catalogue is read back, any change (an entry,
the vocabularies) is validated again, and an invalid catalogue is never kept."""

from __future__ import annotations

import shutil

from scripts import catalog as cat


def _copy(tmp_path):
    root = tmp_path / "catalog"
    shutil.copytree(cat.CATALOG_DIR, root)
    return root


def _counting(monkeypatch):
    calls = []
    real = cat.load_uncached
    monkeypatch.setattr(cat, "load_uncached", lambda *a, **k: calls.append(a) or real(*a, **k))
    return calls


def test_unchanged_catalogue_is_read_back(tmp_path, monkeypatch):
    monkeypatch.setattr(cat, "CACHE_DIR", tmp_path / "cache")
    root = _copy(tmp_path)
    calls = _counting(monkeypatch)
    first, problems = cat.load(root)
    assert problems == [] and len(calls) == 1
    again, problems = cat.load(root)
    assert problems == [] and len(calls) == 1  # from the cache
    assert again.papers == first.papers and again.tags == first.tags and again.categories == first.categories
    (root / "papers" / "se.yaml").write_text(
        (root / "papers" / "se.yaml").read_text(encoding="utf-8").replace("SENet", "SE-Net", 1),
        encoding="utf-8",
    )
    cat.load(root)
    assert len(calls) == 2  # an edited entry is validated again
    assert len(list((tmp_path / "cache").glob("*.pickle"))) == 1  # one catalogue's worth


def test_invalid_catalogue_is_never_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(cat, "CACHE_DIR", tmp_path / "cache")
    root = _copy(tmp_path)
    (root / "tags.yaml").write_text("not: [a, list\n", encoding="utf-8")
    calls = _counting(monkeypatch)
    for n in (1, 2):
        catalog, problems = cat.load(root)
        assert catalog is None and problems and len(calls) == n


def test_non_default_loads_and_the_switch_bypass_it(tmp_path, monkeypatch):
    monkeypatch.setattr(cat, "CACHE_DIR", tmp_path / "cache")
    root = _copy(tmp_path)
    calls = _counting(monkeypatch)
    cat.load(root, check_parity_notes=False)
    monkeypatch.setenv("CVATTN_CATALOG_CACHE", "0")
    cat.load(root)
    cat.load(root)
    assert len(calls) == 3 and not (tmp_path / "cache").exists()
