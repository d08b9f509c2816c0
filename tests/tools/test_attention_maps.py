"""Attention maps: hooks capture each spatial module's map without changing its output; the command draws them."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cvattn
from cvattn.attention_maps import SPATIAL_MAPS, AttentionMaps, capture, spatial_ids
from cvattn.insert import insert
from cvattn.models import resnet18
from scripts import attention_maps as command


def _config(id: str, channels: int, size: tuple[int, int]) -> dict:
    extra = {"spatial_size": size} if "spatial_size" in cvattn.get_spec(id).defaults else {}
    return {"channels": channels, **extra}


def test_table_names_real_submodules():
    assert spatial_ids(), "no spatial module is registered"
    for id in spatial_ids():
        module = cvattn.create(id, **_config(id, 16, (8, 8)))
        assert module.get_submodule(SPATIAL_MAPS[id].submodule) is not None, id


@pytest.mark.parametrize("id", spatial_ids())
def test_map_shape_and_unchanged_output(id):
    module = cvattn.create(id, **_config(id, 16, (12, 10))).eval()
    x = torch.randn(2, 16, 12, 10)
    before = module(x)
    maps = capture(module, x)
    assert set(maps) == {""}
    assert maps[""].shape == (2, 12, 10)
    assert torch.isfinite(maps[""]).all()
    torch.testing.assert_close(module(x), before, rtol=0, atol=0)
    assert not module._forward_hooks and not module._forward_pre_hooks  # hooks removed


def test_cbam_spatial_map_is_its_gate():
    cbam = cvattn.create("cbam", channels=8).eval()
    x = torch.randn(1, 8, 6, 6)
    m = capture(cbam, x)[""]
    x_c = cbam.channel_gate(x)
    torch.testing.assert_close(cbam.spatial_gate(x_c), x_c * m[:, None])


def test_maps_in_a_network_are_keyed_by_path_and_nested_modules_counted_once():
    model = insert(resnet18(width=4), "cbam", reduction=2).eval()
    with AttentionMaps(model) as recorder, torch.no_grad():
        model(torch.randn(1, 3, 32, 32))
    assert len(recorder.maps) == 8  # the CBAMs, not also their spatial gates
    assert recorder.maps["layer1.0.bn2.attn"].shape == (1, 32, 32)
    assert recorder.maps["layer4.1.bn2.attn"].shape == (1, 4, 4)
    assert set(recorder.ids.values()) == {"cbam"}


def test_modules_without_a_spatial_map_give_nothing():
    net = nn.Sequential(nn.Conv2d(3, 8, 1), cvattn.create("se", channels=8))
    assert capture(net, torch.randn(1, 3, 5, 5)) == {}


def test_command_writes_figures(tmp_path):
    out = tmp_path / "maps"
    assert (
        command.main(["--module", "cbam", "scse", "--size", "24", "--channels", "8", "--out", str(out)]) == 0
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == ["cbam.png", "cbam.svg", "gallery.png", "gallery.svg", "scse.png", "scse.svg"]
    assert (out / "cbam.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (out / "cbam.svg").read_text()
    assert svg.startswith("<?xml") and "<image" in svg
    again = tmp_path / "again"
    command.main(
        ["--module", "cbam", "--size", "24", "--channels", "8", "--format", "svg", "--out", str(again)]
    )
    assert (again / "cbam.svg").read_bytes() == (out / "cbam.svg").read_bytes()  # reproducible


def test_command_rejects_unknown_modules_and_images(tmp_path, capsys):
    assert command.main(["--module", "se", "--out", str(tmp_path)]) == 2
    assert "no spatial map for se" in capsys.readouterr().err
    assert command.main(["--image", "no_such_image", "--out", str(tmp_path)]) == 2


def test_maps_of_a_trained_checkpoint(tmp_path):
    from scripts.evaluate import Config, run

    run(
        Config(
            module="cbam",
            width=4,
            epochs=1,
            limit=32,
            batch_size=16,
            progress=False,
            checkpoint_dir=str(tmp_path),
            module_kwargs={"reduction": 2},
        )
    )
    (checkpoint,) = tmp_path.glob("*.pt")
    module_id, maps = command.trained_maps(checkpoint, command.sample_image("astronaut"))
    assert module_id == "cbam" and sorted(maps) == ["layer1", "layer2", "layer3", "layer4"]
    assert maps["layer1"].shape == (32, 32)
