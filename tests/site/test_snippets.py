"""Every Python code block the site and README show runs without error."""

from __future__ import annotations

import re

import pytest

from scripts import render
from scripts.catalog import ROOT, load
from scripts.registry_scan import scan_details

FENCE = re.compile(r"```python\n(.*?)```", re.S)


def snippets() -> list[tuple[str, str]]:
    found = []
    catalog, problems = load()
    assert not problems, "\n".join(map(str, problems))
    details = scan_details()
    pages = render.site_pages(
        catalog,
        {i: d.path for i, d in details.items()},
        {i: d.inputs for i, d in details.items()},
        outputs={i: d.outputs for i, d in details.items()},
    )
    for name, content in sorted(pages.items()):
        if name.endswith(".md") and ".zh." not in name:  # zh pages show the same code
            found += [(name, code) for code in FENCE.findall(content)]
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        found += [(path.name, code) for code in FENCE.findall(path.read_text(encoding="utf-8"))]
    return found


SNIPPETS = snippets()


def test_there_are_snippets():
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("name,code", SNIPPETS, ids=[f"{n}#{i}" for i, (n, _) in enumerate(SNIPPETS)])
def test_snippet_runs(name, code, capsys):
    exec(compile(code, name, "exec"), {"__name__": "__snippet__"})
    assert capsys.readouterr().out.strip(), "a shown snippet should print what it demonstrates"
