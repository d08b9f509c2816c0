"""Costs: parameter and FLOP counts, growth with resolution, the plot, and the committed data file."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import torch
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
    data = {"se": {"resolutions": [14, 28, 56], "flops": [1024, 1024, 1024], "latency_ms": [0.1, 0.15, 0.2]}}
    svg = costs.plot_scaling(data)
    ET.fromstring(svg)
    assert svg == costs.plot_scaling(data)
    assert costs.plot_scaling(data["se"]).startswith("<?xml")


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
            for field in ("config", "params", "flops", "macs"):
                if again[field] != setting[field]:
                    stale.append(
                        f"{module_id} {setting['input']}: {field} {setting[field]} != {again[field]}"
                    )
    assert not stale, "stale costs (run `python -m scripts costs --only ID`):\n" + "\n".join(stale)


def test_stored_entries_carry_provenance(stored):
    for module_id, entry in stored["modules"].items():
        prov = entry["provenance"]
        assert {"machine", "cpu_count", "threads", "torch", "date"} <= set(prov), module_id
