"""The parity recorder, on a toy 'official' repository written here (a channel gate in the style of CBAM's)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scripts import parity
from scripts.parity_recipes._common import as_conv1x1

TOY = """
import torch
from torch import nn
import cuda_only_helpers  # an import the mechanism does not use: the recipe stubs it


class Gate(nn.Module):
    def __init__(self, channels, ratio=16):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(channels, channels // ratio), nn.ReLU(), nn.Linear(channels // ratio, channels))

    def forward(self, x):
        a = self.mlp(x.mean((2, 3))) + self.mlp(x.amax((2, 3)))
        return x * torch.sigmoid(a)[:, :, None, None].cuda()
"""


@pytest.fixture
def checkout(tmp_path):
    repo = tmp_path / "official"
    (repo / "models").mkdir(parents=True)
    (repo / "models" / "gate.py").write_text(TOY)
    for cmd in (
        ["init", "-q"],
        ["add", "."],
        ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "toy"],
    ):
        subprocess.run(["git", "-C", str(repo), *cmd], check=True)
    return repo


def recipe(**changes):
    fields = dict(
        module="cbam-channel",
        repo="https://example.org/toy",
        file="models/gate.py",
        cls="Gate",
        configs=(parity.Config("default", {"channels": 16}, {"channels": 16}, ((2, 16, 3, 5),)),),
        rename=((r"^mlp\.0\.", "fc1."), (r"^mlp\.2\.", "fc2.")),
        convert=as_conv1x1,
        patches=((".cuda()", ""),),
        stubs={"cuda_only_helpers": ""},
    )
    fields.update(changes)
    return parity.Recipe(**fields)


def test_records_a_fixture_that_the_module_matches(checkout, tmp_path):
    path = parity.record("cbam-channel", checkout, tmp_path / "fx", log=lambda _m: None, recipe=recipe())
    fixture = parity.load_fixture(path)
    prov = fixture["provenance"]
    commit = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert prov["commit"] == commit.stdout.strip()
    assert prov["patches"] == [[".cuda()", ""]] and prov["stubs"] == ["cuda_only_helpers"]
    (config,) = fixture["configs"]
    assert sorted(config["state"]) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    assert config["outputs"]["eval"][0].dtype == parity.load_fixture(path)["configs"][0]["inputs"][0].dtype
    result = parity.check_config("cbam-channel", config)
    assert result.ok and result.max_diff < 1e-12, result.diffs
    assert "cuda_only_helpers" not in sys.modules  # stubs are removed after the import


def test_a_different_mechanism_is_caught(checkout, tmp_path):
    """The toy gate with max pooling replaced by a second average: the cvattn module must not match it."""
    changed = recipe(patches=((".cuda()", ""), ("x.amax((2, 3))", "x.mean((2, 3))")))
    path = parity.record("cbam-channel", checkout, tmp_path / "fx", log=lambda _m: None, recipe=changed)
    result = parity.check_config("cbam-channel", parity.load_fixture(path)["configs"][0])
    assert not result.ok and result.diffs["eval output"] > 1e-3


def test_a_rename_that_misses_keys_names_them(checkout, tmp_path):
    with pytest.raises(parity.ParityError, match=r"ours only: fc2.bias, fc2.weight"):
        parity.record(
            "cbam-channel",
            checkout,
            tmp_path,
            log=lambda _m: None,
            recipe=recipe(rename=((r"^mlp\.0\.", "fc1."),)),
        )


def test_a_stale_patch_or_a_plain_folder_is_refused(checkout, tmp_path):
    with pytest.raises(parity.ParityError, match="patch no longer applies"):
        parity.record(
            "cbam-channel", checkout, tmp_path, log=lambda _m: None, recipe=recipe(patches=(("nope", ""),))
        )
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(parity.ParityError, match="not a git checkout"):
        parity.record("cbam-channel", plain, tmp_path, log=lambda _m: None, recipe=recipe())
    with pytest.raises(parity.ParityError, match="no recipe for 'nonexistent'"):
        parity.load_recipe("nonexistent")
