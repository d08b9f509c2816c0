"""Every Python code block the site and README show runs without error."""

from __future__ import annotations

import re

import pytest

from scripts import render
from scripts.catalog import ROOT, load
from scripts.site import api_paths

FENCE = re.compile(r"```python\n(.*?)```", re.S)


def snippets() -> list[tuple[str, str]]:
    found = []
    catalog, problems = load()
    assert not problems, "\n".join(map(str, problems))
    for name, content in sorted(render.site_pages(catalog, api_paths()).items()):
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
