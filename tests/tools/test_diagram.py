"""The data-flow diagrams: valid, byte-identical SVG, shapes on the edges, a cache that skips redraws."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import torch
from torch import nn

import cvattn
from scripts import diagram

SVG_NS = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG_NS}text")]


@pytest.fixture(scope="module")
def se_svg() -> str:
    return diagram.svg_for("se")


def test_svg_is_valid_xml(se_svg):
    root = ET.fromstring(se_svg)
    assert root.tag == f"{SVG_NS}svg"


def test_svg_is_byte_identical_across_renders(se_svg):
    assert diagram.svg_for("se") == se_svg


def test_se_shapes_are_edge_labels(se_svg):
    texts = _texts(se_svg)
    # the input on the skip edge, and the squeezed and bottleneck (C/16 = 4) tensors, whether the
    # excitation is written with 1x1 convs on (N, C, 1, 1) or with linear layers on (N, C)
    assert "1×64×14×14" in texts
    assert any(re.fullmatch(r"1×64(×1×1)?", t) for t in texts), texts
    assert any(re.fullmatch(r"1×4(×1×1)?", t) for t in texts), texts


def test_se_boxes_name_the_operations(se_svg):
    texts = _texts(se_svg)
    for label in ("mean", "ReLU", "Sigmoid", "×", "output"):
        assert label in texts, label
    assert any(t in ("conv 1×1", "linear") for t in texts), texts
    assert "skip / gate edge" in texts  # the legend


def test_trivial_nodes_collapse():
    class Reshapes(nn.Module):
        def forward(self, x):
            n, c, h, w = x.shape  # size/getitem on shapes: not boxes
            y = x.view(n, c, h * w).permute(0, 2, 1).contiguous()  # one 'reshape' box
            return torch.softmax(y, dim=-1)

    gm = torch.fx.symbolic_trace(Reshapes())
    from torch.fx.passes.shape_prop import ShapeProp

    ShapeProp(gm).propagate(torch.randn(1, 8, 4, 4))
    boxes = diagram.simplify(diagram._boxes_from_graph(gm))
    titles = sorted(b.title for b in boxes.values())
    assert titles == ["input x", "output", "reshape", "softmax"]


def test_large_graphs_collapse_below_the_limit():
    for module_id in cvattn.list_modules():
        try:
            boxes = diagram.diagram_boxes(module_id)
        except Exception:  # untraceable modules are covered by the fallback test
            continue
        assert len(boxes) <= diagram.MAX_BOXES + 5, module_id


def test_untraceable_module_gives_a_box_with_the_reason(monkeypatch):
    def fail(module_id):
        raise RuntimeError("symbolically traced variables cannot be used as inputs to control flow")

    monkeypatch.setattr(diagram, "diagram_boxes", fail)
    svg = diagram.svg_for("se")
    ET.fromstring(svg)
    text = " ".join(_texts(svg))
    assert "could not be traced" in text
    assert "control flow" in text


def test_cache_hit_does_not_redraw(tmp_path, monkeypatch):
    calls = []
    real = diagram.svg_for

    def counting(module_id):
        calls.append(module_id)
        return real(module_id)

    monkeypatch.setattr(diagram, "svg_for", counting)
    path = diagram.cached_svg("se", tmp_path)
    mtime = path.stat().st_mtime_ns
    assert diagram.cached_svg("se", tmp_path) == path
    assert calls == ["se"]
    assert path.stat().st_mtime_ns == mtime
    # a changed key (here: a stale key file) redraws
    (tmp_path / "se.svg.sha256").write_text("stale\n")
    diagram.cached_svg("se", tmp_path)
    assert calls == ["se", "se"]


def test_cache_key_depends_on_the_module_source(monkeypatch, tmp_path):
    """The registered configuration lives in the module's file: editing it changes the key."""
    import shutil

    from scripts import registry_scan

    key = diagram.cache_key("se")
    package = tmp_path / "cvattn"
    shutil.copytree(registry_scan.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    se = package / "attention" / "se.py"
    se.write_text(
        se.read_text(encoding="utf-8").replace("reduction: int = 16", "reduction: int = 8"), encoding="utf-8"
    )
    real_scan = registry_scan.scan
    monkeypatch.setattr(registry_scan, "PACKAGE_DIR", package)
    monkeypatch.setattr(registry_scan, "scan", lambda package_dir=package: real_scan(package_dir))
    assert diagram.cache_key("se") != key
