"""The Benchmarks page, generated from benchmark data (a small made-up record here; the built site is checked
against the real docs/data/bench.json in test_build.py)."""

from __future__ import annotations

import re

import pytest

from scripts import bench_page

DATA = {
    "machine": {"cpu": "Test CPU 9000", "cores": 2, "platform": "Linux", "python": "3.11"},
    "environments": {
        "timm": {
            "torch": "2.14.1",
            "timm": "1.0.31",
            "date": "2026-01-01T00:00:00Z",
            "command": "./dev bench",
        }
    },
    "runs": {
        "2026-01-01T00:00:00Z timm": {
            "env": "timm",
            "command": "./dev bench",
            "torch": "2.14.1",
            "allocator": {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "4294967296"},
            "date": "2026-01-01T00:00:00Z",
        }
    },
    "pairs": {
        "se vs timm SEModule": {
            "id": "se",
            "peer": "timm",
            "peer_class": "SEModule",
            "peer_path": "timm.layers:SEModule",
            "alignment": {"en": "Both: C -> C/16 -> C with biases.", "zh": "两者：C -> C/16 -> C，带偏置。"},
            "cells": [
                {
                    "size": [8, 64, 56, 56],
                    "threads": 1,
                    "ms_ours": 1.0,
                    "ms_peer": 2.0,
                    "ratio": 0.5,
                    "ratio_iqr": [0.45, 0.55],
                    "run": "2026-01-01T00:00:00Z timm",
                    "repeats": 15,
                    "params_ours": 580,
                    "params_peer": 580,
                    "compiled": {
                        "ms_ours": 0.5,
                        "ms_peer": 0.4,
                        "ratio": 1.25,
                        "repeats": 15,
                        "compile_s": 9.0,
                    },
                },
                {
                    "size": [8, 64, 56, 56],
                    "threads": 2,
                    "ms_ours": 3.0,
                    "ms_peer": 2.0,
                    "ratio": 1.5,
                    "ratio_iqr": [1.4, 1.6],
                    "repeats": 15,
                    "params_ours": 580,
                    "params_peer": 580,
                },
            ],
        },
        "halonet vs timm HaloAttn": {
            "id": "halonet",
            "peer": "timm",
            "peer_class": "HaloAttn",
            "peer_path": "timm.layers.halo_attn:HaloAttn",
            "alignment": {"en": "Both: 8 heads, 8x8 blocks.", "zh": "两者：8 个头，8x8 块。"},
            "cells": [
                {
                    "size": [8, 64, 56, 56],
                    "threads": 1,
                    "skipped": {"en": "timm needs H divisible by 8", "zh": "timm 要求 H 能被 8 整除"},
                },
            ],
        },
    },
    "not_counterparts": [
        {
            "id": "cotnet",
            "peer": "fightingcv",
            "peer_path": "x:CoTAttention",
            "reason": {"en": "another computation", "zh": "计算不同"},
        },
    ],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_page_lists_every_pair_with_its_alignment_and_cells(catalog, lang):
    page = bench_page.page(catalog, DATA, lang)
    for key, entry in DATA["pairs"].items():
        assert f"{{ #{bench_page.anchor(key)} }}" in page and f"(#{bench_page.anchor(key)})" in page
        assert entry["alignment"][lang].replace(">", "&gt;") in page
    assert "Test CPU 9000" in page and "2.14.1" in page
    # the run, its cells and the allocator settings it ran with
    assert (
        "| 2026-01-01T00:00:00Z | `.bench/timm` | 1 | `MALLOC_MMAP_THRESHOLD_=33554432`<br>"
        "`MALLOC_TRIM_THRESHOLD_=4294967296` | `./dev bench` |"
    ) in page
    assert ("timm needs H divisible by 8" if lang == "en" else "timm 要求 H 能被 8 整除") in page
    assert ("another computation" if lang == "en" else "计算不同") in page
    # ratios above 1 are bold, below 1 plain; the compiled cell shows both sides
    assert "| 0.50 |" in page and "| **1.50** |" in page and "0.50 / 0.40 (**1.25**)" in page


def test_the_page_says_what_the_ratio_means(catalog):
    en = bench_page.page(catalog, DATA, "en")
    zh = bench_page.page(catalog, DATA, "zh")
    assert "Below 1 means cvattn is faster" in en
    assert "小于 1 表示 cvattn 更快" in zh
    assert re.search(r"forward \+ backward", en) and "前向 + 反向" in zh


def test_summary_counts_measured_and_skipped_cells():
    assert bench_page.counts(DATA) == {"measured": 2, "faster": 1, "slower": 1, "skipped": 1}
    text = bench_page.terminal_summary(DATA)
    assert "below 1: cvattn is faster" in text and "0.50" in text and "1.50" in text


def test_without_data_the_page_says_how_to_make_it(catalog):
    assert "./dev bench" in bench_page.page(catalog, {}, "en")
    assert "./dev bench" in bench_page.page(catalog, {}, "zh")
