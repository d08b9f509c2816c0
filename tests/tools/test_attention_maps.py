"""Attention maps: hooks capture each spatial module's map without changing its output; the command draws them."""

from __future__ import annotations

import json
import re

import pytest
import torch
from torch import nn

import cvattn
from cvattn.attention_maps import SPATIAL_MAPS, AttentionMaps, MapSource, capture, spatial_ids
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


def _centre_index(h: int, w: int) -> int:
    return (h // 2) * w + w // 2


@pytest.mark.parametrize("sub_sample", [False, True])
def test_non_local_map_is_the_row_of_the_attention_the_module_applies(sub_sample):
    m = cvattn.create("non-local", channels=8, sub_sample=sub_sample).double().eval()
    x = torch.randn(2, 8, 6, 8, dtype=torch.float64)
    kv = torch.nn.functional.max_pool2d(x, 2) if sub_sample else x
    theta = torch.einsum("oc,nchw->nohw", m.theta.weight[:, :, 0, 0], x) + m.theta.bias[:, None, None]
    phi = torch.einsum("oc,nchw->nohw", m.phi.weight[:, :, 0, 0], kv) + m.phi.bias[:, None, None]
    g = torch.einsum("oc,nchw->nohw", m.g.weight[:, :, 0, 0], kv) + m.g.bias[:, None, None]
    attn = torch.softmax(theta.flatten(2).transpose(1, 2) @ phi.flatten(2) * m.scale, -1)  # (N, HW, M)
    y = (attn @ g.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(2, -1, 6, 8)
    torch.testing.assert_close(m(x), m.bn(m.w_z(y)) + x)  # this attn is what the module applies
    row = attn[:, _centre_index(6, 8)]
    got = capture(m, x)[""].double()
    if sub_sample:  # each 2x2 cell shares its pooled key's weight equally
        expected = row.view(2, 3, 4).repeat_interleave(2, 1).repeat_interleave(2, 2) / 4
    else:
        expected = row.view(2, 6, 8)
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=1e-5)


def test_danet_position_map_is_the_row_of_its_attention():
    m = cvattn.create("danet-pam", channels=16).double().eval()
    x = torch.randn(1, 16, 5, 7, dtype=torch.float64)
    q = m.query(x).flatten(2).transpose(1, 2)
    k = m.key(x).flatten(2)
    s = torch.softmax(q @ k, -1)  # unscaled, as the module
    v = m.value(x).flatten(2)
    torch.testing.assert_close(m(x), m.gamma * (v @ s.transpose(1, 2)).view_as(x) + x)
    torch.testing.assert_close(
        capture(m, x)[""].double(), s[:, _centre_index(5, 7)].view(1, 5, 7), atol=1e-6, rtol=1e-5
    )


def test_criss_cross_map_covers_the_cross_after_one_pass_and_everything_after_two():
    x = torch.randn(1, 16, 7, 9, dtype=torch.float64)
    one = cvattn.create("ccnet", channels=16, recurrence=1).double().eval()
    m1 = capture(one, x)[""].double()
    cross = torch.zeros(7, 9, dtype=torch.bool)
    cross[3, :] = cross[:, 4] = True
    assert (m1[0][~cross] == 0).all() and (m1[0][cross] > 0).all()
    torch.testing.assert_close(m1.sum(), torch.tensor(1.0, dtype=torch.float64))
    # the centre's output is gamma * sum_p map[p] * value[p] + x[centre]: the map is the weights it used
    v = one.value(x)[0]
    centre = one.gamma * (v * m1[0]).sum((1, 2)) + x[0, :, 3, 4]
    torch.testing.assert_close(one(x)[0, :, 3, 4], centre)
    two = cvattn.create("ccnet", channels=16, recurrence=2).double().eval()
    two.load_state_dict(one.state_dict())
    m2 = capture(two, x)[""]
    assert (m2 > 0).all()  # two passes reach every position
    torch.testing.assert_close(m2.sum(), torch.tensor(1.0), atol=1e-5, rtol=0)


def test_gcnet_map_is_its_context_weights():
    m = cvattn.create("gcnet", channels=8).double().eval()
    x = torch.randn(2, 8, 5, 6, dtype=torch.float64)
    logits = torch.einsum("c,nchw->nhw", m.conv_mask.weight.flatten(), x) + m.conv_mask.bias
    expected = torch.softmax(logits.flatten(1), -1).view(2, 5, 6)
    torch.testing.assert_close(capture(m, x)[""].double(), expected, atol=1e-6, rtol=1e-5)


def test_trained_figure_has_one_colour_scale_and_a_colour_bar():
    images = torch.randint(0, 255, (3, 3, 32, 32), dtype=torch.uint8)
    maps = torch.rand(3, 16, 16)
    fig = command.trained_figure(images, maps, [0, 1, 2])
    assert len(fig.axes) == 4 and fig.axes[-1].get_ylabel() == "map value"
    overlays = [ax.images[1] for ax in fig.axes[:3]]
    assert len({im.get_clim() for im in overlays}) == 1, "one colour scale for the whole row"
    low, high = overlays[0].get_clim()
    up = torch.nn.functional.interpolate(maps[:, None], size=(32, 32), mode="bilinear", align_corners=False)
    assert low == pytest.approx(float(up.min())) and high == pytest.approx(float(up.max()))
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_trained_gallery_trains_once_and_records_each_figure(tmp_path, monkeypatch):
    monkeypatch.setattr(
        command,
        "GALLERY_TRAINING",
        {"arch": "resnet18", "width": 4, "data": "digits", "epochs": 1, "batch_size": 64, "lr": 0.05},
    )
    data = tmp_path / "gallery.json"
    record = command.trained_gallery(
        tmp_path / "out", tmp_path / "ckpt", ["cbam"], data_file=data, log=lambda *a: None
    )
    entry = record["modules"]["cbam"]
    for name in ("cbam.png", "cbam.zh.png"):  # one figure per language
        assert (tmp_path / "out" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (
        entry["block"].startswith("layer2.") and entry["map_size"] == [16, 16] and 0 <= entry["top1"] <= 100
    )
    assert (entry["meaning"], entry["meaning_zh"]) == (
        SPATIAL_MAPS["cbam"].meaning,
        SPATIAL_MAPS["cbam"].meaning_zh,
    )
    assert record["training"]["epochs"] == 1 and record["digits"] == [0, 1, 2, 3]
    # a second call reuses the checkpoint (no training) and keeps the recorded accuracy
    from scripts import evaluate

    monkeypatch.setattr(
        evaluate, "run", lambda config: pytest.fail("retrained although the checkpoint is complete")
    )
    again = command.trained_gallery(
        tmp_path / "out", tmp_path / "ckpt", ["cbam"], data_file=data, log=lambda *a: None
    )
    assert again["modules"]["cbam"]["top1"] == entry["top1"]


def test_site_gallery_is_the_trained_one():
    import json

    from scripts import site

    data = json.loads(site.GALLERY_DATA.read_text(encoding="utf-8"))
    assert data["training"] == command.GALLERY_TRAINING
    assert set(data["modules"]) == set(spatial_ids()), "every module with a spatial map is in the gallery"
    for module_id in data["modules"]:
        assert (site.GALLERY_DIR / f"{module_id}.png").exists() and (
            site.GALLERY_DIR / f"{module_id}.zh.png"
        ).exists()
    figures = sorted(
        p.name.removesuffix(".zh.png").removesuffix(".png") for p in site.GALLERY_DIR.glob("*.png")
    )
    assert figures == sorted(2 * list(data["modules"])), "two figures per module (en, zh), no stale ones"


_CJK = re.compile("[\u4e00-\u9fff]")
# two English words in a row (an English phrase), outside code spans: what a Chinese caption must not hold
_ENGLISH_PHRASE = re.compile(r"\b[A-Za-z]{2,}\s+[A-Za-z]{2,}\b")


def test_every_map_has_a_chinese_description_in_code_and_in_the_gallery_record():
    for id, source in SPATIAL_MAPS.items():
        assert _CJK.search(source.meaning_zh) and source.meaning_zh != source.meaning, id
        assert not _ENGLISH_PHRASE.search(source.meaning_zh), (id, source.meaning_zh)
    data = json.loads(command.GALLERY_DATA.read_text(encoding="utf-8"))
    assert len(data["modules"]) > 10
    for id, entry in data["modules"].items():
        assert _CJK.search(entry["meaning_zh"]), id
        # the record is in step with the table (rewrite it with `attention-maps --describe`)
        assert (entry["meaning"], entry["meaning_zh"]) == (
            SPATIAL_MAPS[id].meaning,
            SPATIAL_MAPS[id].meaning_zh,
        ), id


def test_a_map_source_needs_a_chinese_description():
    with pytest.raises(ValueError, match="not Chinese"):
        MapSource("gate", None, "the gate", "the gate")
    with pytest.raises(ValueError, match="meaning is empty"):
        MapSource("gate", None, " ", "门控")


def _stale_record(path, modules):
    record = {"training": dict(command.GALLERY_TRAINING), "digits": [0, 1, 2, 3], "modules": modules}
    path.write_text(json.dumps(record), encoding="utf-8")
    return record


def test_describe_rewrites_only_the_descriptions(tmp_path):
    data = tmp_path / "gallery.json"
    kept = {"top1": 12.5, "block": "layer2.1.bn2.attn", "map_size": [16, 16]}
    _stale_record(data, {"cbam": {**kept, "meaning": "old"}, "gcnet": {**kept, **_described("gcnet")}})
    assert command.refresh_descriptions(data) == ["cbam"]
    record = json.loads(data.read_text(encoding="utf-8"))
    assert record["modules"]["cbam"] == {**kept, **_described("cbam")}
    assert record["modules"]["gcnet"] == {**kept, **_described("gcnet")}
    assert record["training"] == command.GALLERY_TRAINING and record["digits"] == [0, 1, 2, 3]
    assert "\\u" not in data.read_text(encoding="utf-8"), "Chinese is written as is, not escaped"
    assert command.refresh_descriptions(data) == []


def _described(id):
    return {"meaning": SPATIAL_MAPS[id].meaning, "meaning_zh": SPATIAL_MAPS[id].meaning_zh}


def test_describe_reports_bad_records(tmp_path, monkeypatch, capsys):
    with pytest.raises(FileNotFoundError, match="--trained"):
        command.refresh_descriptions(tmp_path / "none.json")
    data = tmp_path / "gallery.json"
    _stale_record(data, {"cbam": {"meaning": "x"}, "not-a-module": {"meaning": "x"}})
    with pytest.raises(ValueError, match="not-a-module"):
        command.refresh_descriptions(data)
    monkeypatch.setattr(command, "GALLERY_DATA", data)
    assert command.main(["--describe"]) == 2
    assert "no description in SPATIAL_MAPS for not-a-module" in capsys.readouterr().err
    _stale_record(data, {"cbam": {"meaning": "x"}})
    assert command.main(["--describe"]) == 0
    assert "1 module(s) rewritten: cbam" in capsys.readouterr().out
    assert json.loads(data.read_text(encoding="utf-8"))["modules"]["cbam"] == _described("cbam")


def _sections(page: str) -> dict[str, str]:
    """The gallery's sections by module id (the code span of each ``##`` heading)."""
    parts = re.split(r"^## ", page, flags=re.M)[1:]
    return {re.search(r"`([^`]+)`", part.splitlines()[0]).group(1): part for part in parts}


def test_zh_gallery_page_describes_every_map_in_chinese(catalog):
    from scripts import render, site

    data = json.loads(site.GALLERY_DATA.read_text(encoding="utf-8"))
    zh, en = (_sections(site.gallery_page(catalog, lang)) for lang in ("zh", "en"))
    assert set(zh) == set(en) == set(data["modules"])
    for id, entry in data["modules"].items():
        caption = zh[id].split("**注意力图**：", 1)[1].split("\n", 1)[0]
        assert caption.startswith(render.text(entry["meaning_zh"]) + "。"), id
        prose = re.sub(r"`[^`]*`", "", caption)  # the block's path is code
        assert not _ENGLISH_PHRASE.search(prose), (id, prose)
        assert render.text(entry["meaning"]) not in "".join(zh.values()), id
        assert render.text(entry["meaning"]) in en[id] and not _CJK.search(en[id]), id
        paper = catalog.paper_of_module(id)
        assert zh[id].splitlines()[2].startswith("论文：[") and en[id].splitlines()[2].startswith(
            "Paper: ["
        ), id
        # the heading: the paper's short title (its Chinese name where the vocabulary has one) and the id
        assert en[id].splitlines()[0] == f"{render.text(site.short_title(paper.title))} · `{id}`", id
    assert zh["coordinate-attention"].startswith("坐标注意力 · `coordinate-attention`")
    assert en["coordinate-attention"].startswith("Coordinate Attention · `coordinate-attention`")
    assert zh["cbam"].startswith("CBAM · `cbam`") and zh["danet-pam"].startswith("Dual Attention Network · ")


def test_gallery_page_refuses_a_record_without_chinese_descriptions(catalog, tmp_path):
    from scripts import site

    data = tmp_path / "gallery.json"
    _stale_record(data, {"cbam": {"top1": 90.0, "block": "layer2.1.bn2.attn", "meaning": "the gate"}})
    assert "the gate" in site.gallery_page(catalog, "en", data)
    with pytest.raises(ValueError, match="cbam has no 'meaning_zh'.*--describe"):
        site.gallery_page(catalog, "zh", data)


@pytest.mark.parametrize(
    "title, short",
    [
        ("CBAM: Convolutional Block Attention Module", "CBAM"),
        ("Rotate to Attend: Convolutional Triplet Attention Module", "Rotate to Attend"),
        ("Coordinate Attention for Efficient Mobile Network Design", "Coordinate Attention"),
        ("Relation-Aware Global Attention for Person Re-identification", "Relation-Aware Global Attention"),
        ("Non-local Neural Networks", "Non-local Neural Networks"),
        ("Attention in Attention", "Attention in Attention"),  # "in" keeps a title it would cut to one word
    ],
)
def test_short_title(title, short):
    from scripts import site

    assert site.short_title(title) == short


def test_short_title_rejects_an_empty_title():
    from scripts import site

    with pytest.raises(ValueError, match="empty title"):
        site.short_title("  ")
