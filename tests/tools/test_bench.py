"""The benchmark matrix: its machinery on a toy pair with tiny inputs, and the committed results file.

The benchmark itself is not run here (it takes hours); ``./dev bench`` does that.
"""

from __future__ import annotations

import json
import re

import pytest
import torch
from torch import nn

import cvattn
from scripts import bench
from scripts.bench_pairs import NOT_COUNTERPARTS, PAIRS, Pair, text

CJK = re.compile(r"[\u4e00-\u9fff]")


class _Recorder(nn.Module):
    """A peer that records when it runs (to check the interleaving) and computes x * sigmoid(conv(x))."""

    def __init__(self, c: int, log: list[str], name: str):
        super().__init__()
        self.conv, self.log, self.name = nn.Conv2d(c, c, 1), log, name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.log.append(self.name)
        return x * torch.sigmoid(self.conv(x))


def toy_pair(**kw) -> Pair:
    """cvattn's SE against a toy peer module (P is ignored: the peer is built here)."""
    defaults = dict(
        id="se",
        peer="toy",
        peer_name="torch.nn:Identity",
        build=lambda P, c, hw: (cvattn.create("se", channels=c), _Recorder(c, [], "peer")),
        alignment=text("toy alignment", "玩具对齐"),
    )
    return Pair(**{**defaults, **kw})


def test_interleaving_alternates_which_side_goes_first():
    log: list[str] = []
    ours, peer = _Recorder(4, log, "ours"), _Recorder(4, log, "peer")
    t_ours, t_peer = bench.interleaved_ms(ours, peer, torch.randn(1, 4, 3, 3), repeats=4, warmup=1)
    assert len(t_ours) == len(t_peer) == 4
    assert log[2:] == ["ours", "peer", "peer", "ours", "ours", "peer", "peer", "ours"]  # after the warm-up


def test_a_slow_cell_runs_fewer_warmup_rounds_and_repeats_but_at_least_one_and_three():
    log: list[str] = []
    ours, peer = _Recorder(4, log, "ours"), _Recorder(4, log, "peer")
    t_ours, _ = bench.interleaved_ms(ours, peer, torch.randn(1, 4, 8, 8), repeats=50, warmup=5, budget_s=0.0)
    assert len(t_ours) == 3 and len(log) == 2 * (1 + 3)


def test_measure_pair_gives_medians_ratio_and_parameters():
    cells = bench.measure_pair(toy_pair(), (2, 8, 6, 6), [1], repeats=3, warmup=1, peer_class=nn.Identity)
    (cell,) = cells
    assert cell["size"] == [2, 8, 6, 6] and cell["threads"] == 1 and cell["repeats"] == 3
    assert cell["ratio"] == pytest.approx(cell["ms_ours"] / cell["ms_peer"], rel=0.02, abs=0.02)
    assert cell["params_ours"] == sum(p.numel() for p in cvattn.create("se", channels=8).parameters())
    assert cell["params_peer"] == 8 * 8 + 8
    q1, q3 = cell["ratio_iqr"]
    assert 0 < q1 <= q3


def test_a_size_that_does_not_apply_is_recorded_with_its_reason():
    why = text("needs H divisible by 7", "H 需能被 7 整除")
    pair = toy_pair(applies=bench_pairs_divisible(7, why))
    cells = bench.measure_pair(pair, (1, 8, 6, 6), [1, 2], peer_class=nn.Identity)
    assert [c["skipped"] for c in cells] == [why, why] and [c["threads"] for c in cells] == [1, 2]


def bench_pairs_divisible(d, why):
    from scripts.bench_pairs import _divisible

    return _divisible(d, why=why)


def test_a_peer_that_cannot_be_built_is_recorded_not_fatal():
    def broken(P, c, hw):
        raise TypeError("the peer's bug")

    (cell,) = bench.measure_pair(toy_pair(build=broken), (1, 8, 6, 6), [1], peer_class=nn.Identity)
    assert "the peer's bug" in cell["skipped"]["en"] and "the peer's bug" in cell["skipped"]["zh"]


def test_the_memory_cap_skips_a_cell_with_the_estimate():
    (cell,) = bench.measure_pair(toy_pair(), (2, 8, 6, 6), [1], max_memory_gb=0.0, peer_class=nn.Identity)
    assert "GB" in cell["skipped"]["en"] and "above the 0 GB cap" in cell["skipped"]["en"]
    assert CJK.search(cell["skipped"]["zh"])


def test_activation_memory_counts_each_saved_storage_once():
    # sigmoid saves its output, which is also the output: 1000 floats, counted once
    assert bench.activation_gb(nn.Sigmoid(), torch.randn(1, 1000)) == pytest.approx(4000 / 1e9)


def test_merge_replaces_only_the_cells_run_again():
    pair = toy_pair()
    old = [
        {"size": [8, 64, 56, 56], "threads": 1, "ratio": 2.0},
        {"size": [8, 64, 56, 56], "threads": 2, "ratio": 2.0},
    ]
    data = bench.merge({"pairs": {"other": {"cells": []}}}, pair, old)
    data = bench.merge(data, pair, [{"size": [8, 64, 56, 56], "threads": 2, "ratio": 0.5}])
    cells = data["pairs"][pair.key]["cells"]
    assert [(c["threads"], c["ratio"]) for c in cells] == [(1, 2.0), (2, 0.5)]
    assert "other" in data["pairs"] and data["pairs"][pair.key]["alignment"] == pair.alignment


def test_run_writes_the_file_and_a_partial_rerun_keeps_the_rest(tmp_path, monkeypatch):
    pair = toy_pair()
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "123")
    monkeypatch.setattr(bench, "PAIRS", [pair])
    monkeypatch.setattr(bench, "_cls", lambda path: nn.Identity)
    out = tmp_path / "bench.json"
    logs: list[str] = []
    opts = dict(repeats=2, warmup=1, command="./dev bench --test", log=logs.append)
    bench.run("toy", out, sizes=[(1, 8, 6, 6), (1, 16, 4, 4)], threads=[1], **opts)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["environments"]["toy"]["command"] == "./dev bench --test"
    (run_id,) = data["runs"]
    assert data["runs"][run_id]["command"] == "./dev bench --test"
    assert data["runs"][run_id]["allocator"]["MALLOC_TRIM_THRESHOLD_"] == "123"  # the settings it ran with
    assert all(c["run"] == run_id for c in data["pairs"][pair.key]["cells"])
    assert data["environments"]["toy"]["torch"] == torch.__version__
    assert data["machine"]["cores"] and data["not_counterparts"] == NOT_COUNTERPARTS
    assert len(data["pairs"][pair.key]["cells"]) == 2 and len(logs) == 2  # one progress line per size
    first = data["pairs"][pair.key]["cells"][1]
    bench.run("toy", out, sizes=[(1, 16, 4, 4)], threads=[2], **opts)
    cells = json.loads(out.read_text(encoding="utf-8"))["pairs"][pair.key]["cells"]
    assert len(cells) == 3 and first in cells
    assert len(json.loads(out.read_text(encoding="utf-8"))["runs"]) == 2  # both runs have cells
    assert not list(tmp_path.glob(".bench.json.*"))  # the temporary files of the atomic writes are gone


def test_a_file_of_the_earlier_layout_is_replaced(tmp_path):
    old = tmp_path / "bench.json"
    old.write_text(json.dumps({"timm": {"rows": []}}), encoding="utf-8")
    assert bench.load(old) == {}


def test_sizes_parse_and_bad_sizes_are_rejected():
    assert bench.parse_size("8x64x56x56") == (8, 64, 56, 56)
    for bad in ("8x64x56", "8x64xfoo", "0x1x1x1"):
        with pytest.raises(ValueError, match="N x C x H x W"):
            bench.parse_size(bad)


def test_the_command_line_defaults_are_the_runner_defaults():
    from scripts.__main__ import bench_command, parser

    args = parser("bench").parse_args(["bench"])
    assert [bench.parse_size(s) for s in args.sizes] == list(bench.SIZES)
    assert tuple(args.threads) == bench.THREADS
    assert (args.repeats, args.warmup) == (bench.REPEATS, bench.WARMUP)
    assert (args.max_memory_gb, args.max_cell_seconds) == (bench.MAX_MEMORY_GB, bench.MAX_CELL_SECONDS)
    assert set(args.envs) == set(bench.PEERS)
    assert bench_command(args).startswith(
        "./dev bench --sizes 8x64x56x56 8x256x28x28 32x512x14x14 --threads 1 2"
    )


def test_the_peer_environments_run_with_the_pinned_allocator(tmp_path, monkeypatch):
    """`./dev bench` starts each environment's process with BENCH_ALLOCATOR (glibc reads it at start-up); a
    setting the caller already made wins."""
    import subprocess

    from scripts import __main__ as cli

    calls = []
    monkeypatch.setattr(subprocess, "call", lambda cmd, cwd, env: calls.append(env) or 0)
    monkeypatch.setattr(cli, "BENCH_ENVS", {"timm": tmp_path})
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").touch()
    monkeypatch.setattr("scripts.bench_page.load_bench", lambda path: {})
    monkeypatch.setattr("scripts.bench_page.terminal_summary", lambda data: "")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "7")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    args = cli.parser("bench").parse_args(["bench", "--envs", "timm", "--out", str(tmp_path / "b.json")])
    assert cli.cmd_bench(args) == 0
    (env,) = calls
    assert env["MALLOC_MMAP_THRESHOLD_"] == cli.BENCH_ALLOCATOR["MALLOC_MMAP_THRESHOLD_"] == str(32 << 20)
    assert env["MALLOC_TRIM_THRESHOLD_"] == "7"


def test_only_rejects_an_id_without_a_pair():
    with pytest.raises(ValueError, match="no pair for module id"):
        bench.select("timm", ["no-such-module"])


def test_every_pair_is_unique_registered_and_described_in_both_languages():
    registered = set(cvattn.list_modules())
    assert len({p.key for p in PAIRS}) == len(PAIRS)
    for pair in PAIRS:
        assert pair.id in registered, pair.key
        assert pair.environment in bench.PEERS and pair.peer in bench.PEERS, pair.key
        assert len(pair.alignment.get("en", "")) > 20 and CJK.search(pair.alignment.get("zh", "")), pair.key
    for item in NOT_COUNTERPARTS:
        assert item["id"] is None or item["id"] in registered
        assert item["reason"]["en"] and CJK.search(item["reason"]["zh"])


def test_the_results_cover_every_pair_at_every_size_and_thread_count():
    """docs/data/bench.json holds every Pair of scripts/bench_pairs.py, described as in the code, with a cell
    (timed, or not run with the reason in both languages) for every size and thread count of the matrix."""
    data = bench.load(bench.DEFAULT_OUT)
    assert data, "docs/data/bench.json is missing or of the earlier layout: run ./dev bench"
    missing = [p.key for p in PAIRS if p.key not in data["pairs"]]
    assert not missing, f"pairs not in docs/data/bench.json (run ./dev bench --only ...): {missing}"
    wanted = {(size, t) for size in bench.SIZES for t in bench.THREADS}
    for pair in PAIRS:
        entry = data["pairs"][pair.key]
        assert entry["alignment"] == pair.alignment, f"{pair.key}: alignment changed since the run"
        got = {(tuple(c["size"]), c["threads"]) for c in entry["cells"]}
        assert wanted <= got, f"{pair.key}: cells missing: {sorted(wanted - got)}"
        for cell in entry["cells"]:
            if "ratio" in cell:
                assert cell["ms_ours"] > 0 and cell["ms_peer"] > 0 and cell["repeats"] >= 3
            else:
                assert cell["skipped"]["en"] and CJK.search(cell["skipped"]["zh"]), pair.key
    assert data["machine"]["cpu"] and set(data["environments"]) == set(bench.PEERS)
