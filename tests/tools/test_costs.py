"""Costs: parameter and FLOP counts (conv/matmul and element-wise), growth with resolution, the plots, the
--static-only refresh, and the committed data file."""

from __future__ import annotations

import argparse
import json
import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cvattn
from scripts import costs

COSTS_JSON = costs.DEFAULT_OUT


def test_parameters_equal_sum_of_numel():
    result = costs.static_costs("se", (1, 64, 14, 14))
    module = cvattn.create("se", channels=64)
    assert result["params"] == sum(p.numel() for p in module.parameters())


def test_flops_of_a_1x1_conv():
    cin, cout, h, w = 16, 32, 7, 9
    conv = nn.Conv2d(cin, cout, 1, bias=False)
    assert costs.count_flops(conv, (torch.randn(1, cin, h, w),)) == 2 * cin * cout * h * w


def test_macs_are_half_the_flops():
    result = costs.static_costs("se", (2, 64, 14, 14))
    assert result["macs"] * 2 == result["flops"]
    # SE's FLOPs are its two 1x1 convs on the pooled (N, C, 1, 1) tensor: 2 * N * 2 * C * C/16
    assert result["flops"] == 2 * 2 * (64 * 4 + 4 * 64)


def test_config_follows_the_input():
    assert costs.static_costs("se", (1, 256, 14, 14))["config"] == {"channels": 256}


def test_heads_follow_the_channels_when_they_no_longer_divide_them():
    """Swin's default is 3 heads of 32 channels: at 64 channels that becomes 2 heads of 32."""
    assert costs.adapt_config("swin", ((1, 64, 56, 56),)) == {"channels": 64, "num_heads": 2}
    assert costs.adapt_config("swin", ((1, 96, 56, 56),)) == {}


def test_in_channels_follow_the_first_input_of_blocks_only():
    assert costs.adapt_config("acnet", ((1, 48, 16, 16),)) == {"in_channels": 48, "out_channels": 48}
    # OctConv's pair form takes the high-frequency part first: only a share of its in_channels
    assert costs.adapt_config("octconv", ((1, 32, 16, 16), (1, 32, 8, 8))) == {}


class QuadraticToy(nn.Module):
    """Non-local-like: attention over all H*W positions, cost quadratic in H*W."""

    def __init__(self, channels: int = 8) -> None:
        super().__init__()
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)

    def forward(self, x):
        q, k, v = self.qkv(x).flatten(2).chunk(3, dim=1)  # (N, C, HW) each
        attn = torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # (N, HW, HW)
        return (v @ attn.transpose(1, 2)).view_as(x)


def _growth(flops: list[int]) -> float:
    return flops[-1] / flops[-2]


class HandCounted(nn.Module):
    """Every kind of element-wise work once: bias, eval batch norm, activation, pooling, gate, softmax."""

    def __init__(self, channels: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1, bias=True)
        self.bn = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        gate = torch.sigmoid(F.adaptive_avg_pool2d(y, 1))
        return torch.softmax((y * gate).flatten(2), dim=-1).view_as(x)


def test_elementwise_flops_of_a_tiny_module_match_a_hand_count():
    n, c, h, w = 1, 4, 6, 6
    e = n * c * h * w  # 144 elements in every full-size tensor
    counts = costs.count_ops(HandCounted(c), (torch.randn(n, c, h, w),))
    assert counts.flops == 2 * c * c * h * w  # the 1x1 conv only
    by_hand = {
        "conv bias": e,
        "batch norm, eval, affine: subtract, scale by 1/sigma, weight, bias": 4 * e,
        "relu": e,
        "global average pool: every input element": e,
        "sigmoid on N x C x 1 x 1": n * c,
        "gate product": e,
        "softmax: max, subtract, exp, sum, divide": 5 * e,
    }
    assert counts.elementwise_flops == sum(by_hand.values()) == 1876
    assert counts.total_flops == counts.flops + counts.elementwise_flops
    assert counts.uncounted == [] and not counts.returns_input


def test_se_elementwise_flops_match_a_hand_count():
    n, c, hw = 2, 64, 14 * 14
    hidden = 4  # 64 / 16
    result = costs.static_costs("se", (n, c, 14, 14))
    pool, gate = n * c * hw, n * c * hw  # the squeeze reads every element, the excitation scales it
    biases, relu, sigmoid = n * (hidden + c), n * hidden, n * c
    assert result["elementwise_flops"] == pool + biases + relu + sigmoid + gate
    assert result["total_flops"] == result["flops"] + result["elementwise_flops"]


def test_adaptive_pooling_counts_its_overlapping_windows_exactly():
    # 5 -> 3: windows [0, 2), [1, 4), [3, 5) hold 2 + 3 + 2 elements
    assert costs._adaptive_window_total(5, 3) == 7
    counts = costs.count_ops(nn.AdaptiveMaxPool2d(3), (torch.randn(1, 2, 5, 6),))
    assert counts.elementwise_flops == 2 * 7 * 6  # 6 -> 3: three windows of 2
    assert counts.flops == 0


def test_pooling_of_every_dimensionality_counts_its_windows():
    """1-, 2- and 3-D pooling (clips are pooled over time too): output elements x window volume."""
    clip = torch.randn(2, 3, 4, 6, 8)
    cases = [
        (nn.MaxPool1d(3), torch.randn(2, 3, 10), 2 * 3 * 3 * 3),  # 3 windows of 3 (a 1-D window is not 3x3)
        (nn.AvgPool2d(2), torch.randn(2, 3, 6, 8), 2 * 3 * 3 * 4 * 4),
        (nn.MaxPool3d(2), clip, 2 * 3 * (2 * 3 * 4) * 8),
        (nn.AvgPool3d((1, 2, 2)), clip, 2 * 3 * (4 * 3 * 4) * 4),
        (
            nn.AdaptiveMaxPool3d((1, 2, 2)),
            clip,
            2 * 3 * 4 * 6 * 8,
        ),  # windows tile the input: each element once
        (nn.AdaptiveAvgPool3d(1), clip, 2 * 3 * 4 * 6 * 8),
    ]
    for module, x, want in cases:
        counts = costs.count_ops(module, (x,))
        assert counts.elementwise_flops == want, module
        assert counts.flops == 0 and not counts.uncounted, module


def test_fused_attention_counts_its_products_and_its_softmax():
    class Sdpa(nn.Module):
        def forward(self, q):
            return F.scaled_dot_product_attention(q, q, q)

    b, heads, s, d = 2, 3, 10, 8
    counts = costs.count_ops(Sdpa(), (torch.randn(b, heads, s, d),))
    assert counts.flops == 2 * b * heads * s * s * (d + d)  # Q K^T and A V
    assert counts.elementwise_flops == 6 * b * heads * s * s  # scale + softmax per score


def test_an_operator_without_a_formula_is_reported_not_counted_as_zero():
    class CumMax(nn.Module):
        def forward(self, x):
            return torch.cummax(x, dim=-1).values

    counts = costs.count_ops(CumMax(), (torch.randn(1, 4, 5),))
    assert counts.uncounted == ["aten.cummax"]
    assert "uncounted_ops" not in costs.static_costs("se", (1, 64, 7, 7))


def test_count_ops_rejects_bad_inputs():
    with pytest.raises(ValueError, match="tuple of input tensors"):
        costs.count_ops(nn.ReLU(), torch.randn(1, 2))


def test_se_total_grows_with_the_input_while_its_conv_matmul_flops_stay_flat():
    se = costs.scaling("se", resolutions=(14, 28, 56))
    assert se["flops"][0] == se["flops"][1] == se["flops"][2]
    totals = se["total_flops"]
    assert totals[0] < totals[1] < totals[2]
    assert 3.5 < totals[2] / totals[1] <= 4  # pooling and gating read every element: x4 for 2x resolution


def test_a_module_that_acts_only_in_training_says_so():
    result = costs.static_costs("wcd", (1, 64, 14, 14))
    assert result["total_flops"] == 0 and result["identity_in_eval"] is True
    assert "identity_in_eval" not in costs.static_costs("se", (1, 64, 14, 14))


def test_a_module_that_only_moves_data_says_so():
    result = costs.static_costs(
        "tsm", (1, 64, 8, 14, 14)
    )  # a temporal shift: slices and copies, no arithmetic
    assert result["total_flops"] == 0 and result["moves_data_only"] is True
    assert "identity_in_eval" not in result
    for other in ("se", "wcd"):
        assert "moves_data_only" not in costs.static_costs(other, (1, 64, 14, 14))


def test_static_only_refreshes_the_counts_and_keeps_the_timings(tmp_path, capsys):
    path = tmp_path / "costs.json"
    stale = {"input": [[1, 64, 14, 14]], "config": {}, "params": 1, "flops": 1, "macs": 0}
    stale |= {"latency_ms": {"forward": 1.25, "forward_backward": 2.5}, "runs": {"forward": 7}}
    entry = {
        "kind": "attention",
        "settings": [stale, {"input": [[1, 63, 14, 14]], "error": "ValueError: kept"}],
        "scaling": {"channels": 64, "resolutions": [14], "flops": [1], "latency_ms": [0.5]},
        "provenance": {"machine": "test", "date": "2000-01-01T00:00:00Z"},
    }
    path.write_text(json.dumps({"format": 1, "modules": {"se": entry}}), encoding="utf-8")
    args = argparse.Namespace(only=["se"], out=path, threads=1, static_only=True)
    assert costs.command_costs(args) == 1  # the stored error setting still counts as a failure
    stored = json.loads(path.read_text(encoding="utf-8"))["modules"]["se"]
    fresh = costs.static_costs("se", (1, 64, 14, 14))
    setting = stored["settings"][0]
    assert {k: setting.get(k) for k in costs.STATIC_FIELDS} == {k: fresh.get(k) for k in costs.STATIC_FIELDS}
    assert setting["latency_ms"] == stale["latency_ms"] and setting["runs"] == stale["runs"]
    assert stored["settings"][1] == entry["settings"][1]
    assert stored["scaling"]["latency_ms"] == [0.5]
    assert stored["scaling"]["total_flops"] == [fresh["total_flops"]] and stored["scaling"]["flops"] == [1024]
    assert stored["provenance"] == entry["provenance"]
    assert "counted (timings kept)" in capsys.readouterr().out


def test_static_only_refuses_a_module_that_was_never_timed(tmp_path, capsys):
    path = tmp_path / "costs.json"
    path.write_text(json.dumps({"format": 2, "modules": {}}), encoding="utf-8")
    args = argparse.Namespace(only=["se"], out=path, threads=1, static_only=True)
    assert costs.command_costs(args) == 1
    assert "no entry for: se" in capsys.readouterr().out
    assert json.loads(path.read_text(encoding="utf-8"))["modules"] == {}


def test_se_flops_do_not_grow_and_a_quadratic_toy_grows_16x():
    se = costs.scaling("se", resolutions=(14, 28))
    assert se["resolutions"] == [14, 28]
    assert _growth(se["flops"]) == 1.0  # its convs see the pooled tensor only
    toy = [costs.count_flops(QuadraticToy(), (torch.randn(1, 8, r, r),)) for r in (14, 28)]
    assert 12 < _growth(toy) <= 16  # the HW x HW attention dominates: x16 for 2x resolution


@pytest.mark.skipif("non-local" not in cvattn.list_modules(), reason="no 'non-local' module registered")
def test_non_local_grows_quadratically_where_se_grows_linearly_or_less():
    nl = costs.scaling("non-local", resolutions=(14, 28))
    assert _growth(nl["flops"]) > 8
    assert _growth(costs.scaling("se", resolutions=(14, 28))["flops"]) <= 4


def test_plot_scaling_is_valid_byte_identical_svg():
    data = {
        "se": {
            "resolutions": [14, 28, 56],
            "flops": [1024, 1024, 1024],
            "total_flops": [26248, 101512, 402568],
            "latency_ms": [0.1, 0.15, 0.2],
        }
    }
    svg = costs.plot_scaling(data)
    ET.fromstring(svg)
    assert svg == costs.plot_scaling(data)
    assert costs.plot_scaling(data["se"]).startswith("<?xml")


def _svg_text(svg: str) -> str:
    return " ".join(t.strip() for t in ET.fromstring(svg).itertext() if t.strip())


SCALING = {"resolutions": [14, 28], "flops": [10, 10], "total_flops": [300, 1200], "latency_ms": [0.1, 0.3]}


@pytest.mark.parametrize(
    "plot",
    [
        lambda lang: costs.plot_scaling(SCALING, lang),
        lambda lang: costs.plot_comparison(
            {
                "modules": {
                    "se": {
                        "kind": "attention",
                        "settings": [
                            {"flops": 10, "total_flops": 300, "latency_ms": {"forward_backward": 0.2}}
                        ],
                    }
                }
            },
            ["se"],
            lang,
        ),
    ],
    ids=["scaling", "comparison"],
)
def test_plots_are_drawn_in_each_language(plot):
    en, zh = _svg_text(plot("en")), _svg_text(plot("zh"))
    assert "FLOPs, forward" in en and "conv/matmul" in en and "前" not in en
    assert "前向 FLOPs" in zh and "卷积/矩阵乘" in zh
    assert "forward" not in zh and "total" not in zh and "latency" not in zh
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        plot("fr")


def test_a_failing_setting_is_recorded_not_raised(monkeypatch):
    monkeypatch.setattr(costs, "standard_inputs", lambda module_id: [((1, 63, 14, 14),)])
    monkeypatch.setattr(costs, "adapt_config", lambda module_id, shapes: {})
    result = costs.measure("se", memory=False)
    assert "error" in result["settings"][0]
    assert result["provenance"]["torch"] == torch.__version__


@pytest.fixture(scope="module")
def stored() -> dict:
    if not COSTS_JSON.exists():
        pytest.fail(f"{COSTS_JSON} is missing: run `python -m scripts costs`")
    return json.loads(COSTS_JSON.read_text(encoding="utf-8"))


def test_every_registered_module_has_stored_costs(stored):
    missing = sorted(set(cvattn.list_modules()) - set(stored["modules"]))
    assert not missing, f"no costs for {missing}: run `python -m scripts costs --only {' '.join(missing)}`"


def test_stored_parameters_and_flops_are_recomputable(stored):
    stale = []
    for module_id, entry in sorted(stored["modules"].items()):
        if module_id not in cvattn.list_modules():
            stale.append(f"{module_id}: no longer registered")
            continue
        for setting in entry["settings"]:
            if "error" in setting:
                continue
            again = costs.static_costs(module_id, [tuple(s) for s in setting["input"]])
            for field in costs.STATIC_FIELDS:
                if again.get(field) != setting.get(field):
                    stale.append(
                        f"{module_id} {setting['input']}: {field} {setting[field]} != {again[field]}"
                    )
    assert not stale, "stale costs (run `python -m scripts costs --only ID`):\n" + "\n".join(stale)


def test_stored_entries_carry_provenance(stored):
    for module_id, entry in stored["modules"].items():
        prov = entry["provenance"]
        assert {"machine", "cpu_count", "threads", "torch", "date"} <= set(prov), module_id


def test_every_module_with_a_latency_has_a_nonzero_total(stored):
    """Element-wise work is counted, so only a module that returns its input in eval mode, or one whose every
    operator only moves data, counts 0."""
    zero = []
    for module_id, entry in sorted(stored["modules"].items()):
        for setting in entry["settings"]:
            if setting.get("latency_ms", {}).get("forward") and not setting.get("total_flops"):
                if not (setting.get("identity_in_eval") or setting.get("moves_data_only")):
                    zero.append(f"{module_id} {setting['input']}")
    assert not zero, "modules with a latency and no counted FLOPs:\n" + "\n".join(zero)


def test_no_stored_setting_has_an_operator_without_a_formula(stored):
    uncounted = {
        f"{module_id} {setting['input']}": setting["uncounted_ops"]
        for module_id, entry in stored["modules"].items()
        for setting in entry["settings"]
        if setting.get("uncounted_ops")
    }
    assert not uncounted, f"add FLOP formulas in scripts/costs.py for: {uncounted}"


def test_stored_scaling_has_totals_that_never_fall_below_the_conv_matmul_flops(stored):
    for module_id, entry in stored["modules"].items():
        scale = entry.get("scaling", {})
        if scale.get("resolutions"):
            assert len(scale["total_flops"]) == len(scale["flops"]) == len(scale["resolutions"]), module_id
            assert all(t >= f for t, f in zip(scale["total_flops"], scale["flops"], strict=True)), module_id


def test_peak_memory_prints_nothing(capfd):
    """libkineto's profiler_start/profiler_stop lines (native stderr) stay out of the progress output."""
    import torch

    from scripts import costs

    assert costs._peak_memory_mb(lambda: torch.randn(1000).sum()) >= 0
    out, err = capfd.readouterr()
    assert "profiler_start" not in err and "USDT" not in err and out == ""


def test_a_module_without_arithmetic_gets_a_note_not_a_warning():
    """TSM only shifts channels: its FLOPs panel says so instead of an empty legend (matplotlib warned)."""
    import warnings

    from scripts import costs

    data = {"resolutions": [14, 28], "total_flops": [0, 0], "flops": [0, 0], "latency_ms": [0.1, 0.3]}
    for lang, note in (("en", "only moves data"), ("zh", "只搬移数据")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            svg = costs.plot_scaling(data, lang)
        assert note in svg
