"""The committed catalogue is valid, and everything generated from it is committed up to date."""

from __future__ import annotations

import json
import re

from scripts import render
from scripts.__main__ import README, SCHEMA
from scripts.catalog import Paper, load, schema_text


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


CJK = re.compile("[\u3400-\u9fff]")
# Chinese forms without a Chinese character: acronyms and names that Chinese papers write as they are
LATIN_ONLY = re.compile(r"[A-Za-z0-9][A-Za-z0-9 .()-]*")


def test_every_tag_of_the_catalogue_has_a_chinese_form(catalog):
    used = {tag for paper in catalog.papers for tag in paper.tags}
    zh = {t.en: t.zh for t in catalog.tags}
    assert used <= set(zh), sorted(used - set(zh))
    for tag in sorted(used):
        form = zh[tag]
        assert form != tag, f"{tag!r} has no Chinese form"
        if not CJK.search(form):  # an acronym or a name: the tag spelled as it is written (ASPP, U-Net)
            assert LATIN_ONLY.fullmatch(form) and form.lower() == tag.lower(), (tag, form)
    assert len(set(zh.values())) == len(zh), "two tags share a Chinese form"


def test_every_tag_of_the_vocabulary_is_used(catalog):
    # a tag no entry uses is a leftover of a merge or a typo
    used = {tag for paper in catalog.papers for tag in paper.tags}
    assert sorted(t.en for t in catalog.tags if t.en not in used) == []


def test_every_result_label_has_a_chinese_form(catalog):
    metrics = {t.en: t.zh for t in catalog.metrics}
    datasets = {t.en: t.zh for t in catalog.datasets}
    for paper in catalog.papers:
        for result in paper.results:
            assert result.metric in metrics and result.dataset in datasets, (paper.id, result)
    assert metrics["top-1 accuracy"] == "top-1 准确率"
    # a metric written in words has a Chinese word in its form; a bare symbol (mIoU, AP) stays as it is
    for en, zh in metrics.items():
        assert CJK.search(zh) or zh == en, (en, zh)


def test_schema_offers_the_vocabularies_to_editors():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    catalog = load()[0]
    assert schema["properties"]["tags"]["items"]["enum"] == sorted(t.en for t in catalog.tags)
    result = schema["$defs"]["Result"]["properties"]
    assert result["metric"]["enum"] == sorted(t.en for t in catalog.metrics)
    assert result["dataset"]["enum"] == sorted(t.en for t in catalog.datasets)
