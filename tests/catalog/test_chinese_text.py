"""Chinese prose is written without spaces between characters: a soft line break inside a Chinese paragraph of
a Markdown page shows as a space in the browser, so hand-written zh pages must not break lines there."""

from __future__ import annotations

import re

import pytest

from scripts.catalog import ROOT

CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
PAGES = sorted([*ROOT.glob("docs/*.zh.md"), ROOT / "CONTRIBUTING.zh.md"])


def soft_breaks_between_cjk(text: str) -> list[int]:
    """Line numbers where a paragraph line ending in a Chinese character continues with one."""
    found, fence = [], False
    lines = text.split("\n")
    for number, (line, following) in enumerate(zip(lines, lines[1:], strict=False), start=1):
        if line.strip().startswith("```"):
            fence = not fence
        nxt = following.lstrip()
        if (
            fence
            or not line
            or not nxt
            or nxt.startswith(("-", "|", "#", "*", ">"))
            or line.lstrip().startswith("|")
        ):
            continue
        if CJK.match(line[-1]) and CJK.match(nxt[0]):
            found.append(number)
    return found


def test_the_check_sees_a_soft_break():
    assert soft_breaks_between_cjk("第一行\n第二行\n") == [1]
    assert soft_breaks_between_cjk("第一行\n\n第二段\n- 列表\n- 项目\n") == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_line_break_between_chinese_characters(page):
    assert soft_breaks_between_cjk(page.read_text(encoding="utf-8")) == [], f"join these lines of {page.name}"
