"""The committed catalogue is valid, and everything generated from it is committed up to date."""

from __future__ import annotations

import json

import pytest

from scripts import render
from scripts.__main__ import README, SCHEMA
from scripts.catalog import Paper, load, schema_text


@pytest.fixture(scope="module")
def catalog():
    catalog, problems = load()
    assert problems == [], "\n".join(map(str, problems))
    return catalog


def test_catalog_is_valid(catalog):
    assert len(catalog.papers) >= 1


def test_schema_is_not_stale():
    assert SCHEMA.read_text(encoding="utf-8") == schema_text(), "run `python -m scripts schema`"


def test_readme_and_contributing_are_not_stale(catalog):
    from scripts.__main__ import _generated_docs

    for path, expected in _generated_docs(catalog).items():
        assert path.read_text(encoding="utf-8") == expected, (
            f"{path.name} is stale: run `python -m scripts readme`"
        )


def test_every_paper_in_readme_and_json(catalog):
    readme = README.read_text(encoding="utf-8")
    exported = json.loads(render.catalog_json(catalog))
    assert {p["id"] for p in exported["papers"]} == {p.id for p in catalog.papers}
    for paper in catalog.papers:
        assert render.text(paper.title) in readme
        assert Paper.model_validate(next(p for p in exported["papers"] if p["id"] == paper.id)) == paper


def test_bibtex_round_trips_through_bibtexparser(catalog):
    import bibtexparser

    library = bibtexparser.parse_string(render.bibtex(catalog))
    assert not library.failed_blocks
    assert len(library.entries) == len(catalog.papers)
    keys = [e.key for e in library.entries]
    assert len(keys) == len(set(keys)), "BibTeX keys must be unique"


def test_entry_without_module_shows_its_own_reason():
    catalog = load()[0]
    papers = {p.id: p for p in catalog.papers}
    for lang in ("en", "zh"):
        ganet = render.module_section(papers["ganet"], lang, {}, {})
        assert papers["ganet"].module_note is not None
        assert getattr(papers["ganet"].module_note, lang)[:20] in ganet
        assert render.LABELS[lang]["no_module"] not in ganet
        survey = render.module_section(papers["attentive-survey"], lang, {}, {})
        assert render.LABELS[lang]["no_module"] in survey
