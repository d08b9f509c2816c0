"""The validator: one fixture per kind of problem, each reported as path:line: field: problem (hint)."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.catalog import CATALOG_DIR, ROOT, SCHEMA_LINE, load

TODAY = datetime.date(2026, 11, 23)

GOOD = f"""{SCHEMA_LINE}
id: good
title: A Good Paper About Attention
authors: [Ada Lovelace, Alan Turing]
venue: cvpr
year: 2020
category: channel
tags: [channel attention]
links:
  paper: https://example.org/paper
  arxiv: "2001.00001"
  code: https://github.com/example/good
idea:
  en: One line.
  zh: 一句话。
summary:
  en: Two sentences. Really.
  zh: 两句话。确实如此。
modules: [se]
"""


def make_catalog(tmp_path: Path, entries: dict[str, str]) -> Path:
    root = tmp_path / "catalog"
    (root / "papers").mkdir(parents=True)
    for name in ("categories.yaml", "venues.yaml", "tags.yaml", "metrics.yaml"):
        shutil.copy(CATALOG_DIR / name, root / name)
    for name, text in entries.items():
        (root / "papers" / name).write_text(text, encoding="utf-8")
    return root


def problems_of(tmp_path, entries, modules=("se",), fixtures=("se",)):
    catalog, problems = load(
        make_catalog(tmp_path, entries), modules=list(modules), fixtures=set(fixtures), today=TODAY
    )
    return catalog, [str(p) for p in problems]


def test_good_entry_loads(tmp_path):
    catalog, problems = problems_of(tmp_path, {"good.yaml": GOOD})
    assert problems == []
    assert catalog.by_id["good"].authors == ["Ada Lovelace", "Alan Turing"]


BAD = {
    "unparsable": (
        GOOD.replace("tags: [channel attention]", "tags: [channel attention"),
        ["good.yaml:", "unparsable YAML"],
    ),
    "missing field": (
        GOOD.replace("title: A Good Paper About Attention\n", ""),
        ["good.yaml:2: title: missing required field (add this field)"],
    ),
    "unknown field": (GOOD.replace("tags:", "tagz:"), ["good.yaml:8: tagz: ", "unknown field"]),
    "wrong type": (GOOD.replace("year: 2020", "year: twenty"), ["good.yaml:6: year: ", "whole number"]),
    "non-http url": (
        GOOD.replace("https://example.org/paper", "javascript:alert(1)"),
        ["good.yaml:10: links.paper: not an http(s) URL"],
    ),
    "ftp url": (
        GOOD.replace("https://github.com/example/good", "ftp://example.org/x"),
        ["good.yaml:12: links.code: not an http(s) URL"],
    ),
    "year too early": (GOOD.replace("year: 2020", "year: 1989"), ["good.yaml:6: year: "]),
    "year too late": (
        GOOD.replace("year: 2020", "year: 2028"),
        ["good.yaml:6: year: year 2028 outside 1990..2027"],
    ),
    "unknown category": (
        GOOD.replace("category: channel", "category: chanel"),
        ["good.yaml:7: category: unknown category 'chanel' (use one of:"],
    ),
    "unknown venue": (
        GOOD.replace("venue: cvpr", "venue: cvpr2020"),
        ["good.yaml:5: venue: unknown venue 'cvpr2020'"],
    ),
    "empty zh": (GOOD.replace("  zh: 一句话。", "  zh: ''"), ["good.yaml:15: idea.zh: "]),
    "missing zh": (
        GOOD.replace("  zh: 两句话。确实如此。\n", ""),
        ["good.yaml:16: summary.zh: missing required field"],
    ),
    "bad arxiv id": (GOOD.replace('"2001.00001"', '"arXiv:2001.00001v2"'), ["good.yaml:11: links.arxiv: "]),
    "unknown module": (
        GOOD.replace("modules: [se]", "modules: [se, nope]"),
        ["good.yaml:19: modules.1: module 'nope' is not registered"],
    ),
    "module note beside modules": (
        GOOD.replace("modules: [se]", "modules: [se]\nmodule_note: {en: Not yet., zh: 暂无。}"),
        ["good.yaml:20: module_note: an entry with modules has no reason to explain their absence"],
    ),
    "missing schema line": (
        GOOD.replace(SCHEMA_LINE + "\n", ""),
        ["good.yaml:1: (file): first line must reference the schema"],
    ),
    "not a mapping": (SCHEMA_LINE + "\n- just\n- a list\n", ["good.yaml:1: (entry): expected a mapping"]),
}


@pytest.mark.parametrize("kind", sorted(BAD))
def test_each_problem_kind_is_reported_with_path_line_field(tmp_path, kind):
    text, expected = BAD[kind]
    catalog, problems = problems_of(tmp_path, {"good.yaml": text})
    assert catalog is None
    joined = "\n".join(problems)
    for fragment in expected:
        assert fragment in joined, f"{fragment!r} not in:\n{joined}"
    assert all(
        p.startswith("catalog/") or "/catalog/papers/" in p or p.startswith(str(tmp_path)) for p in problems
    )


def test_cross_file_identity(tmp_path):
    other = GOOD.replace("id: good", "id: other").replace("modules: [se]", "modules: []")
    renamed = GOOD.replace("id: good", "id: elsewhere").replace("modules: [se]", "modules: []")
    _, problems = problems_of(tmp_path, {"good.yaml": GOOD, "other.yaml": other, "misnamed.yaml": renamed})
    joined = "\n".join(problems)
    assert "misnamed.yaml:2: id: id 'elsewhere' differs from the file name 'misnamed'" in joined
    assert "duplicate title: also used by" in joined
    assert "duplicate arXiv id: also used by" in joined


def test_registered_module_without_entry(tmp_path):
    _, problems = problems_of(tmp_path, {"good.yaml": GOOD}, modules=("se", "orphan"))
    assert any("registered module 'orphan' is named by no entry" in p for p in problems)


def test_every_problem_is_reported_at_once(tmp_path):
    text = (
        GOOD.replace("year: 2020", "year: 3000")
        .replace("venue: cvpr", "venue: nope")
        .replace("tags:", "tagz:")
    )
    _, problems = problems_of(tmp_path, {"good.yaml": text, "broken.yaml": "id: [\n"})
    assert len(problems) >= 3
    assert any("broken.yaml" in p for p in problems) and any("tagz" in p for p in problems)


def test_validate_command_exits_nonzero_and_writes_nothing(tmp_path):
    root = make_catalog(tmp_path, {"good.yaml": GOOD.replace("venue: cvpr", "venue: nope")})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = subprocess.run(
        [sys.executable, "-m", "scripts", "readme", "--catalog", str(root), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "venue: unknown venue 'nope'" in result.stderr and "nothing was written" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_folded_chinese_text_loses_the_spaces_of_its_line_breaks():
    import yaml

    from scripts.catalog import Bilingual

    folded = yaml.safe_load(
        "zh: >-\n  第一行写到这里，\n  第二行接着写 ResNet-50 的结果。\nen: >-\n  one\n  two\n"
    )
    text = Bilingual(**folded)
    assert text.zh == "第一行写到这里，第二行接着写 ResNet-50 的结果。"  # spaces beside Latin words stay
    assert text.en == "one two"


NOTE = """parity_note:
  se:
    en: The official code is Caffe.
    zh: 官方代码基于 Caffe。
"""


def test_module_with_official_code_needs_a_fixture_or_a_note(tmp_path):
    _, problems = problems_of(tmp_path, {"good.yaml": GOOD}, fixtures=())
    assert [p.split("good.yaml:", 1)[1] for p in problems] == [
        "19: modules.0: module 'se' has official code but no parity fixture (record one "
        "(python -m scripts parity record se --official DIR) or say why not in parity_note.se (en, zh))"
    ]
    _, problems = problems_of(tmp_path / "noted", {"good.yaml": GOOD + NOTE}, fixtures=())
    assert problems == []


def test_parity_note_must_explain_something(tmp_path):
    _, problems = problems_of(tmp_path, {"good.yaml": GOOD + NOTE})  # se has a fixture
    assert [p.split("good.yaml:", 1)[1] for p in problems] == [
        "21: parity_note.se: the module has a parity fixture, so there is nothing to explain (remove the note)"
    ]
    no_code = GOOD.replace("  code: https://github.com/example/good\n", "")
    _, problems = problems_of(tmp_path / "b", {"good.yaml": no_code + NOTE}, fixtures=())
    assert [p.split(": ", 2)[1:] for p in problems] == [
        [
            "parity_note.se",
            "the entry has no official code (links.code) (remove the note, or add the code link)",
        ]
    ]
    other = NOTE.replace("  se:", "  eca:")
    _, problems = problems_of(tmp_path / "c", {"good.yaml": GOOD + other})
    assert [p.split(": ", 2)[1:] for p in problems] == [
        ["parity_note.eca", "names a module this entry does not list (use one of: se)"]
    ]


# --------------------------------------------------------------------------- tags, metrics and data sets

RESULTS = """results:
  - {dataset: ImageNet, model: SE-ResNet-50, metric: top-1 accuracy, value: 76.7, source: Table 2}
"""


def test_unknown_tag_names_file_field_tag_closest_tags_and_how_to_add(tmp_path):
    text = GOOD.replace("tags: [channel attention]", "tags: [channel attention, channel-wise attention]")
    catalog, problems = problems_of(tmp_path, {"good.yaml": text})
    assert catalog is None
    assert len(problems) == 1
    where, rest = problems[0].split("good.yaml:", 1)[1].split(" (", 1)
    assert where == "8: tags.1: unknown tag 'channel-wise attention'"
    assert rest.startswith("closest known: 'channel attention', ")
    assert "add it to catalog/tags.yaml with its Chinese form, as CONTRIBUTING.md says" in rest


def test_another_spelling_of_a_known_tag_is_told_the_catalogue_spelling(tmp_path):
    for i, variant in enumerate(("Channel Attention", "channel-attention", "channel attentions")):
        text = GOOD.replace("tags: [channel attention]", f"tags: [{variant}]")
        _, problems = problems_of(tmp_path / str(i), {"good.yaml": text})
        assert [p.split("good.yaml:", 1)[1] for p in problems] == [
            f"8: tags.0: unknown tag {variant!r} (write 'channel attention', the one spelling the catalogue "
            "uses for this term)"
        ]


def test_tag_far_from_every_known_tag_says_how_to_add_it(tmp_path):
    _, problems = problems_of(tmp_path, {"good.yaml": GOOD.replace("[channel attention]", "[xyzzy]")})
    assert problems == [
        f"{problems[0].split(':', 1)[0]}:8: tags.0: unknown tag 'xyzzy' (no known term is close; add it to "
        "catalog/tags.yaml with its Chinese form, as CONTRIBUTING.md says)"
    ]


def test_tag_listed_twice_in_an_entry(tmp_path):
    text = GOOD.replace("[channel attention]", "[channel attention, gating, channel attention]")
    _, problems = problems_of(tmp_path, {"good.yaml": text})
    assert [p.split("good.yaml:", 1)[1] for p in problems] == [
        "8: tags.2: tag 'channel attention' listed twice (remove one)"
    ]


def test_unknown_metric_and_dataset_of_a_result(tmp_path):
    _, problems = problems_of(tmp_path, {"good.yaml": GOOD + RESULTS})
    assert problems == []
    text = GOOD + RESULTS.replace("top-1 accuracy", "top1 acc").replace("ImageNet", "imagenet")
    _, problems = problems_of(tmp_path / "bad", {"good.yaml": text})
    assert [p.split("good.yaml:", 1)[1] for p in problems] == [
        "21: results.0.metric: unknown metric 'top1 acc' (closest known: 'top-1 accuracy', 'top-5 accuracy'; "
        "or add it to the `metrics` section of catalog/metrics.yaml with its Chinese form, as CONTRIBUTING.md "
        "says)",
        "21: results.0.dataset: unknown dataset 'imagenet' (write 'ImageNet', the one spelling the catalogue "
        "uses for this term)",
    ]


def test_a_new_tag_added_to_the_vocabulary_is_accepted_and_shown_in_chinese(tmp_path):
    root = make_catalog(tmp_path, {"good.yaml": GOOD.replace("[channel attention]", "[frobnication]")})
    with open(root / "tags.yaml", "a", encoding="utf-8") as fh:
        fh.write("frobnication: 弗罗布化\n")
    catalog, problems = load(root, modules=["se"], fixtures={"se"}, today=TODAY)
    assert problems == []
    assert catalog.tag_label("frobnication", "zh") == "弗罗布化"
    assert catalog.tag_label("frobnication", "en") == "frobnication"


VOCABULARY_BAD = {
    "no Chinese form": ("tags.yaml", "frobnication:\n", "frobnication: has no Chinese form"),
    "Chinese form is the tag": (
        "tags.yaml",
        "frobnication: frobnication\n",
        "frobnication: the Chinese form is the English tag itself",
    ),
    "not lowercase": ("tags.yaml", "Frobnication: 弗罗布化\n", "Frobnication: 'Frobnication' is not a tag"),
    "listed twice": ("tags.yaml", "gating: 门控\n", "gating: listed twice (also on line"),
    "plural of a tag": (
        "tags.yaml",
        "skip connections: 跳跃连接们\n",
        "skip connections: another spelling of 'skip connection' (case, hyphens or plural)",
    ),
    "shared Chinese form": (
        "tags.yaml",
        "atrous convolution: 空洞卷积\n",
        "atrous convolution: same Chinese form '空洞卷积' as 'dilated convolution'",
    ),
    "key that is not text": ("tags.yaml", "yes: 是\n", "yes: the term is not text (quote it)"),
    "metric without Chinese form": (
        "metrics.yaml",
        "  frob score:\n",
        "datasets.frob score: has no Chinese form",
    ),
    "unknown section": (
        "metrics.yaml",
        "models:\n  ResNet: ResNet\n",
        "models: unknown section (use metrics or datasets)",
    ),
}


@pytest.mark.parametrize("kind", sorted(VOCABULARY_BAD))
def test_each_vocabulary_problem_is_reported(tmp_path, kind):
    name, appended, expected = VOCABULARY_BAD[kind]
    root = make_catalog(tmp_path, {"good.yaml": GOOD})
    with open(root / name, "a", encoding="utf-8") as fh:
        fh.write(appended)
    catalog, problems = load(root, modules=["se"], fixtures={"se"}, today=TODAY)
    assert catalog is None
    assert any(f"catalog/{name}:" in p and expected in p for p in map(str, problems)), problems


def test_missing_vocabulary_file_is_reported_and_entries_are_not_flagged(tmp_path):
    root = make_catalog(tmp_path, {"good.yaml": GOOD})
    (root / "tags.yaml").unlink()
    _, problems = load(root, modules=["se"], fixtures={"se"}, today=TODAY)
    assert [str(p).split("catalog/", 2)[-1] for p in problems] == [
        "tags.yaml:1: (file): file is missing (restore it from git)"
    ]


def test_validate_command_prints_the_unknown_tag(tmp_path):
    root = make_catalog(tmp_path, {"good.yaml": GOOD.replace("[channel attention]", "[chanel attention]")})
    result = subprocess.run(
        [sys.executable, "-m", "scripts", "validate", "--catalog", str(root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert (
        "good.yaml:8: tags.0: unknown tag 'chanel attention' (closest known: 'channel attention'"
        in result.stderr
    )
