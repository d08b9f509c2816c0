"""Property test: any valid entry loads, renders on every page kind, and round-trips through the JSON export."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts import render
from scripts.catalog import CATALOG_DIR, SCHEMA_LINE, Paper, load

VOCABULARY = yaml.safe_load((CATALOG_DIR / "tags.yaml").read_text(encoding="utf-8"))
RESULT_LABELS = yaml.safe_load((CATALOG_DIR / "metrics.yaml").read_text(encoding="utf-8"))

words = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip() != "")
slug = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
url = st.builds(
    lambda host, path: f"https://{host}.org/{path}",
    st.from_regex(r"[a-z]{1,10}", fullmatch=True),
    st.from_regex(r"[a-z0-9/_-]{0,20}", fullmatch=True),
)


@st.composite
def entries(draw):
    pid = draw(slug)
    entry = {
        "id": pid,
        # a caret is rejected in titles (superscripts are written as characters), so valid titles have none
        "title": draw(words.filter(lambda s: "^" not in s)),
        "authors": draw(st.lists(words, min_size=1, max_size=4)),
        "venue": draw(st.sampled_from(["cvpr", "iccv", "tpami", "arxiv", "neurips"])),
        "year": draw(st.integers(1990, 2027)),
        "category": draw(st.sampled_from(["channel", "spatial", "survey"])),
        "tags": draw(st.lists(st.sampled_from(sorted(VOCABULARY)), max_size=3, unique=True)),
        "links": {
            "paper": draw(url),
            "arxiv": draw(st.one_of(st.none(), st.from_regex(r"\d{4}\.\d{5}", fullmatch=True))),
        },
        "idea": {"en": draw(words), "zh": draw(words)},
        "summary": {"en": draw(words), "zh": draw(words)},
        "modules": [],
        "results": draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "dataset": st.sampled_from(sorted(RESULT_LABELS["datasets"])),
                        "model": words,
                        "metric": st.sampled_from(sorted(RESULT_LABELS["metrics"])),
                        "source": words,
                        "value": st.floats(0, 100, allow_nan=False),
                    }
                ),
                max_size=2,
            )
        ),
    }
    if draw(st.booleans()):
        entry["links"]["code"] = draw(url)
    if entry["links"]["arxiv"] is None:
        del entry["links"]["arxiv"]
    return entry


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries())
def test_valid_entries_load_render_and_round_trip(entry):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "papers").mkdir()
        for name in ("categories.yaml", "venues.yaml", "tags.yaml", "metrics.yaml"):
            shutil.copy(CATALOG_DIR / name, root / name)
        text = SCHEMA_LINE + "\n" + yaml.safe_dump(entry, allow_unicode=True, sort_keys=False)
        (root / "papers" / f"{entry['id']}.yaml").write_text(text, encoding="utf-8")
        catalog, problems = load(root, modules=[])
    assert problems == [], [str(p) for p in problems]
    paper = catalog.papers[0]
    pages = render.site_pages(catalog, api_paths={})
    assert f"catalog/papers/{paper.id}.md" in pages and f"catalog/papers/{paper.id}.zh.md" in pages
    assert render.text(paper.title) in pages[f"catalog/papers/{paper.id}.md"]
    for tag in paper.tags:  # Chinese pages show the Chinese form of every tag
        assert render.text(VOCABULARY[tag]) in pages[f"catalog/papers/{paper.id}.zh.md"]
    exported = json.loads(pages["catalog/catalog.json"])["papers"][0]
    assert Paper.model_validate(exported) == paper
    assert sum(line.startswith("| [") for line in render.readme_list(catalog).splitlines()) == 1
