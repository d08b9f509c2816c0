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
    for label in ("mean", "ReLU", "sigmoid", "×", "output"):
        assert label in texts, label
    assert any(t in ("conv 1×1", "linear") for t in texts), texts
    assert diagram.EDGE_STYLES["long"][0] in texts  # the legend


def _boxes(module: nn.Module, *inputs: torch.Tensor) -> dict[int, diagram.Box]:
    from torch.fx.passes.shape_prop import ShapeProp

    gm = torch.fx.symbolic_trace(module.eval())
    ShapeProp(gm).propagate(*inputs)
    return diagram.simplify(diagram._boxes_from_graph(gm))


def test_trivial_nodes_collapse():
    class Reshapes(nn.Module):
        def forward(self, x):
            n, c, h, w = x.shape  # size/getitem on shapes: not boxes
            y = x.view(n, c, h * w).permute(0, 2, 1).contiguous()  # plumbing: folds into the softmax
            return torch.softmax(y, dim=-1)

    boxes = _boxes(Reshapes(), torch.randn(1, 8, 4, 4))
    assert sorted(b.title for b in boxes.values()) == ["input x", "output", "softmax"]
    (softmax,) = [b for b in boxes.values() if b.title == "softmax"]
    assert [shape for _, shape in softmax.ins] == ["1×16×8"]  # the edge keeps the shape after the reshape


# ------------------------------------------------------------------------------------ operator names


def test_eca_is_labelled_as_a_1d_convolution_with_its_kernel():
    module = cvattn.create("eca")
    (conv,) = [m for m in module.modules() if isinstance(m, nn.Conv1d)]
    texts = _texts(diagram.svg_for("eca"))
    assert f"conv1d k={conv.kernel_size[0]}" in texts, texts
    assert not any(re.match(r"conv \d", t) for t in texts), texts  # no 2-D "conv 3×3"


@pytest.mark.parametrize(
    ("layer", "shape", "title", "detail"),
    [
        (nn.Conv3d(4, 8, (3, 5, 5)), (1, 4, 6, 10, 10), "conv3d 3×5×5", "4→8"),
        (nn.Conv2d(8, 8, 5, padding=2, groups=8), (1, 8, 9, 9), "dw conv 5×5", "8→8"),
        (nn.Conv2d(8, 16, 3, stride=2, groups=4), (1, 8, 9, 9), "group conv 3×3", "8→16, s2, g=4"),
        (nn.Conv1d(1, 1, 7, padding=3), (1, 1, 32), "conv1d k=7", "1→1"),
        (nn.Conv2d(4, 4, (1, 7), dilation=2), (1, 4, 9, 20), "conv 1×7", "4→4, d2"),
    ],
)
def test_convolutions_are_named_by_dimension_kernel_and_groups(layer, shape, title, detail):
    boxes = _boxes(layer, torch.randn(shape))
    (conv,) = [b for b in boxes.values() if b.kind == "conv"]
    assert (conv.title, conv.detail) == (title, detail)


def test_functional_convolution_reads_its_kernel_off_the_weight():
    class Dynamic(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.randn(6, 2, 3, 3))

        def forward(self, x):
            return torch.nn.functional.conv2d(x, self.weight, padding=1, groups=3)

    boxes = _boxes(Dynamic(), torch.randn(1, 6, 8, 8))
    (conv,) = [b for b in boxes.values() if b.kind == "conv"]
    assert (conv.title, conv.detail) == ("group conv 3×3", "6→6, g=3")


# ------------------------------------------------------------------------------------- trace noise


def _words(texts: list[str]) -> set[str]:
    return {w for t in texts for w in re.split(r"[\s·()]+", t) if w}


def test_masks_indices_and_scalars_fold_into_their_neighbours():
    class Masked(nn.Module):
        """CCNet's pattern: an affinity with its diagonal masked by torch.eye, split by slicing, a learnt γ."""

        def __init__(self):
            super().__init__()
            self.gamma = nn.Parameter(torch.zeros(1))
            self.register_buffer("index", torch.tensor([2, 0, 1]))

        def forward(self, x):
            n, c, h, w = x.shape
            energy = torch.bmm(x.view(n, c, h * w).transpose(1, 2), x.view(n, c, h * w))
            mask = torch.eye(h * w, dtype=torch.bool, device=x.device)[None]
            energy = energy.masked_fill(mask, float("-inf"))
            attn = energy.softmax(dim=-1)
            first, second = attn[:, :, : h * w // 2], attn[:, :, h * w // 2 :]
            out = first.sum(-1) + second.sum(-1)
            return self.gamma * out[:, self.index]

    boxes = _boxes(Masked(), torch.randn(1, 4, 2, 3))
    titles = [b.title for b in boxes.values()]
    assert "bmm · mask" in titles, titles  # the mask folds into the op that made the masked tensor
    assert "× γ" in titles, titles  # a one-element parameter is part of its consumer's label
    assert "index" in titles, titles  # a gather by an index tensor is one "indexing" box ...
    assert not [b for b in boxes.values() if b.kind == "param"], titles  # ... and its index buffer goes
    assert not _words(titles) & diagram.RAW_TRACE_NAMES, titles
    # the two slices are edges from the softmax to the sums, with the sliced shapes
    (softmax,) = [k for k, b in boxes.items() if b.title == "softmax"]
    sums = [b for b in boxes.values() if b.title == "sum"]
    assert [[sh for s, sh in b.ins if s == softmax] for b in sums] == [["1×6×3"], ["1×6×3"]]


@pytest.mark.parametrize("module_id", ["ccnet", "non-local-concatenation", "iaunet"])
def test_tangled_diagrams_read_like_the_paper(module_id):
    boxes = diagram.diagram_boxes(module_id)
    users = diagram._consumers(boxes)
    titles = [b.title for b in boxes.values()]
    assert not _words(titles) & diagram.RAW_TRACE_NAMES, titles
    for key, b in boxes.items():
        # no floating constant (torch.eye, arange) and no reshape that could have been folded
        assert b.ins or b.kind in ("io", "param"), (module_id, b)
        if b.kind == "reshape":
            assert len(users[key]) > 1, (module_id, b)
    assert len(boxes) <= diagram.COMPACT_BOXES, (module_id, titles)


@pytest.fixture(scope="module")
def all_svgs() -> dict[str, str]:
    """Every module's diagram, through the build's cache (drawn when the cache is missing or stale)."""
    return {m: diagram.cached_svg(m).read_text(encoding="utf-8") for m in cvattn.list_modules()}


@pytest.mark.slow
def test_no_diagram_shows_raw_trace_op_names(all_svgs):
    offenders = {m: sorted(_words(_texts(svg)) & diagram.RAW_TRACE_NAMES) for m, svg in all_svgs.items()}
    assert not {m: w for m, w in offenders.items() if w}


# --------------------------------------------------------------------------------- size and legend


def _font_sizes_px(svg: str) -> list[float]:
    """Font size of every label in CSS px at the SVG's natural size (its width is given in pt)."""
    root = ET.fromstring(svg)
    width = root.get("width")
    assert width.endswith("pt"), width
    px_per_unit = float(width[:-2]) * 4 / 3 / float(root.get("viewBox").split()[2])
    sizes = []
    for t in root.iter(f"{SVG_NS}text"):
        match = re.search(r"font-size:\s*([\d.]+)px", t.get("style", ""))
        assert match, t.attrib
        sizes.append(float(match.group(1)) * px_per_unit)
    return sizes


@pytest.mark.slow
def test_every_label_is_at_least_11px_at_natural_size(all_svgs):
    """The page shows each diagram at its natural size (tests/site/test_diagram_browser.py checks that)."""
    small = {m: min(_font_sizes_px(svg)) for m, svg in all_svgs.items() if min(_font_sizes_px(svg)) < 11}
    assert not small
    assert min(_font_sizes_px(diagram.error_svg("se", "a reason"))) >= 11


def _styles(svg: str) -> dict[str, dict[str, str]]:
    """``id`` of every artist group that has one -> the style of its first path (``fill``, ``stroke``, ...)."""
    root = ET.fromstring(svg)
    out = {}
    for g in root.iter(f"{SVG_NS}g"):
        gid = g.get("id", "")
        if not gid.startswith(("node-", "edge-", "legend-")):
            continue
        path = next(g.iter(f"{SVG_NS}path"))
        out[gid] = dict(
            (k.strip(), v.strip())
            for k, v in (p.split(":") for p in path.get("style", "").split(";") if ":" in p)
        )
    return out


def _look(style: dict[str, str]) -> tuple[str, str, str]:
    return style.get("fill", ""), style.get("stroke", ""), style.get("stroke-width", "")


@pytest.mark.slow
def test_legend_colours_are_the_colours_drawn(all_svgs):
    for module_id, svg in all_svgs.items():
        if "could not be traced" in svg:
            continue
        styles = _styles(svg)
        drawn_nodes: dict[str, set] = {}
        drawn_edges: dict[str, set] = {}
        for gid, style in styles.items():
            part = gid.split("-")
            if part[0] == "node":
                drawn_nodes.setdefault(part[1], set()).add(_look(style))
            elif part[0] == "edge":
                drawn_edges.setdefault(part[1], set()).add((style.get("stroke"), style.get("stroke-width")))
        legend_nodes = {
            g.split("-")[2]: {_look(s)} for g, s in styles.items() if g.startswith("legend-kind-")
        }
        legend_edges = {
            g.split("-")[2]: {(s.get("stroke"), s.get("stroke-width"))}
            for g, s in styles.items()
            if g.startswith("legend-edge-")
        }
        drawn_nodes.pop("io", None)  # inputs and outputs say what they are in their own label
        assert legend_nodes == drawn_nodes, module_id
        assert legend_edges == drawn_edges, module_id


def test_legend_shows_edge_styles_that_occur(se_svg):
    styles = _styles(se_svg)
    assert {g for g in styles if g.startswith("legend-edge-")} == {"legend-edge-data", "legend-edge-long"}
    assert styles["legend-edge-long"]["stroke"] == diagram.SKIP_COLOUR
    assert styles["legend-edge-data"]["stroke"] == diagram.EDGE_COLOUR


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


def test_cache_key_depends_on_the_files_the_module_imports(monkeypatch, tmp_path):
    """ABD-Net's CAM subclasses DANet's: editing danet.py changes the key of abd-net-cam's diagram."""
    import shutil

    from scripts import registry_scan

    key = diagram.cache_key("abd-net-cam")
    package = tmp_path / "cvattn"
    shutil.copytree(registry_scan.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    danet = package / "attention" / "danet.py"
    danet.write_text(danet.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    real_scan = registry_scan.scan
    monkeypatch.setattr(registry_scan, "PACKAGE_DIR", package)
    monkeypatch.setattr(registry_scan, "scan", lambda package_dir=package: real_scan(package_dir))
    assert diagram.cache_key("abd-net-cam") != key


def test_identical_parallel_branches_are_drawn_once_and_marked():
    """DDF-Up applies four identical sub-pixel branches to the same input: one copy is drawn, marked (x4)."""
    boxes = diagram.diagram_boxes("ddf-up")
    bmm = [b for b in boxes.values() if "bmm" in b.titles]
    assert len(bmm) == 1 and bmm[0].repeat == 4 and bmm[0].title.endswith("(×4)")
    stack = next(b for b in boxes.values() if "stack" in b.titles)
    assert stack.ins == [(bmm[0].key, stack.ins[0][1])]  # the four results meet in one edge


def test_one_way_in_one_way_out_regions_collapse_alike():
    """Dynamic Head's three levels end in the same task-aware activation: each becomes one box, the same."""
    boxes = diagram.diagram_boxes("dynamic-head")
    assert len(boxes) <= diagram.MAX_BOXES
    tails = [b for b in boxes.values() if b.titles[:2] == ["mean", "linear"]]
    assert len(tails) == 3 and len({tuple(b.titles) for b in tails}) == 1
