"""Data-flow diagrams of the registered modules: ``torch.fx`` trace → shapes → layered layout → SVG.

A module is traced with ``torch.fx.symbolic_trace`` in eval mode, its tensor shapes come from
``ShapeProp`` on ``cvattn.example_input(id, batch=1)``, and the graph is drawn by matplotlib:

- operations are boxes coloured by kind (conv/linear, norm, activation, softmax, pool/reduce, matmul,
  add, mul, concat/split, reshape, other), with a legend of the kinds that occur;
- every edge carries the shape of the tensor it moves; edges that jump over layers (skips, gates) are
  drawn as blue curves in a lane of their own;
- layout: longest-path layering from the inputs, barycentre ordering with dummy nodes for long edges,
  and x positions that pull each box towards its neighbours (isotonic regression keeps the order);
- trivial nodes (``size``/``getattr``/``getitem`` on shapes, ``Identity``) are dropped, chains of
  view/reshape/permute/contiguous ops become one ``reshape`` box, and when more than
  :data:`MAX_BOXES` boxes remain, conv→norm→act runs and then any linear run are merged.

The SVG is byte-identical across runs (fixed sizes, sorted iteration, ``svg.hashsalt`` and no date
or creator metadata). :func:`cached_svg` redraws only when the module's source, its default
configuration, its example input shapes or this file change. A module that cannot be traced gets a
single box that says why, still a valid SVG.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import operator
import os
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".cache" / "diagrams"

MAX_BOXES = 40
"""Above this many boxes, any linear run of operations is merged into one box."""
COMPACT_BOXES = 28
"""Above this many boxes, reshapes fold into the op before them and conv/linear→norm→act runs merge."""

# Kinds, in legend order: (label, face colour, edge colour).
KINDS: dict[str, tuple[str, str, str]] = {
    "io": ("input / output", "#e8e8e8", "#6b6b6b"),
    "param": ("parameter", "#f4f4f4", "#9a9a9a"),
    "conv": ("conv / linear", "#cfe2f7", "#3b73b0"),
    "norm": ("norm", "#fbeeb4", "#b08d1a"),
    "act": ("activation", "#d4efd0", "#3f8a3a"),
    "softmax": ("softmax", "#fdd9b5", "#c46a12"),
    "pool": ("pool / reduce", "#e3d7f3", "#6e4ea5"),
    "matmul": ("matmul", "#f7c9c9", "#b03b3b"),
    "add": ("add", "#c9ecec", "#2b8a8a"),
    "mul": ("mul / gate", "#f6d3ea", "#a83f85"),
    "concat": ("concat / split", "#eadccf", "#87603d"),
    "reshape": ("reshape", "#f1f1f1", "#a0a0a0"),
    "other": ("other", "#ffffff", "#555555"),
}
# When runs merge, the box takes the kind that matters most.
_PRIORITY = ["matmul", "conv", "softmax", "pool", "mul", "add", "concat", "norm", "act", "other", "reshape"]

# Sizes, in inches (the axes use inches as data units, so text and boxes keep their size).
FIG_WIDTH = 8.0
BOX_H = 0.36
LAYER_GAP = 0.40
H_GAP = 0.22
DUMMY_W = 0.14
MARGIN = 0.2
LEGEND_H = 0.42
TITLE_PT = 7.5
DETAIL_PT = 6.2
EDGE_PT = 5.8
SKIP_COLOUR = "#2f6db3"
EDGE_COLOUR = "#5a5a5a"

RC = {
    "svg.hashsalt": "cvattn",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "path.simplify": False,
}

_ACT_NAMES = {
    "relu", "relu6", "sigmoid", "hardsigmoid", "hard_sigmoid", "gelu", "silu", "swish", "tanh", "elu",
    "leaky_relu", "hardswish", "hard_swish", "prelu", "mish", "softplus", "exp", "hardtanh", "celu", "selu",
}  # fmt: skip
_POOL_NAMES = {
    "mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "norm", "adaptive_avg_pool2d",
    "adaptive_max_pool2d", "avg_pool2d", "max_pool2d", "avg_pool1d", "max_pool1d", "adaptive_avg_pool1d",
    "interpolate", "upsample", "topk", "cumsum", "std_mean", "var_mean", "prod", "median",
}  # fmt: skip
_RESHAPE_NAMES = {
    "view", "reshape", "permute", "transpose", "flatten", "unflatten", "contiguous", "unsqueeze", "squeeze",
    "expand", "expand_as", "repeat", "t", "movedim", "moveaxis", "swapaxes", "narrow", "view_as",
    "reshape_as", "pad", "unfold", "fold", "roll", "repeat_interleave", "flip", "pixel_shuffle",
    "pixel_unshuffle", "tile", "rearrange", "to", "float", "type_as", "clone", "detach", "chunk_view",
}  # fmt: skip
_PURE_VIEW = {
    "view", "reshape", "permute", "transpose", "flatten", "unflatten", "contiguous", "unsqueeze", "squeeze",
    "t", "movedim", "moveaxis", "swapaxes", "view_as", "reshape_as", "to", "float", "type_as", "clone",
    "detach", "rearrange",
}  # fmt: skip
_NAMED_OPS = {
    "add": ("add", "+"), "iadd": ("add", "+"), "radd": ("add", "+"), "sub": ("add", "−"),
    "isub": ("add", "−"), "rsub": ("add", "−"), "neg": ("add", "−x"),
    "mul": ("mul", "×"), "imul": ("mul", "×"), "truediv": ("mul", "÷"), "div": ("mul", "÷"),
    "itruediv": ("mul", "÷"), "floordiv": ("mul", "÷"), "pow": ("mul", "pow"), "sqrt": ("mul", "sqrt"),
    "rsqrt": ("mul", "rsqrt"), "reciprocal": ("mul", "1/x"), "abs": ("mul", "abs"), "addcmul": ("mul", "addcmul"),
    "matmul": ("matmul", "matmul"), "bmm": ("matmul", "bmm"), "mm": ("matmul", "mm"),
    "einsum": ("matmul", "einsum"), "baddbmm": ("matmul", "baddbmm"),
    "scaled_dot_product_attention": ("matmul", "attention"),
    "softmax": ("softmax", "softmax"), "log_softmax": ("softmax", "log softmax"),
    "cat": ("concat", "concat"), "concat": ("concat", "concat"), "stack": ("concat", "stack"),
    "split": ("concat", "split"), "chunk": ("concat", "chunk"), "unbind": ("concat", "unbind"),
    "tensor_split": ("concat", "split"),
    "layer_norm": ("norm", "LayerNorm"), "batch_norm": ("norm", "BatchNorm"),
    "group_norm": ("norm", "GroupNorm"), "instance_norm": ("norm", "InstanceNorm"),
    "normalize": ("norm", "L2 normalize"),
    "conv2d": ("conv", "conv"), "conv1d": ("conv", "conv1d"), "conv3d": ("conv", "conv3d"),
    "linear": ("conv", "linear"), "conv_transpose2d": ("conv", "deconv"),
    "getitem": ("reshape", "index"), "dropout": ("other", "dropout"),
}  # fmt: skip


@dataclass
class Box:
    """One box of the diagram: one or several (merged) fx nodes."""

    key: int  # topological index of its first node
    kind: str
    titles: list[str]
    detail: str = ""
    ops: list[str] = field(default_factory=list)  # raw op names, for merging reshape chains
    kinds: list[str] = field(default_factory=list)  # kind of each merged op
    ins: list[tuple[int, str]] = field(default_factory=list)  # (source box key, edge shape)
    fixed: bool = False  # inputs, outputs and parameters never merge

    @property
    def title(self) -> str:
        titles = self.titles
        if len(titles) > 1:  # in a merged box, reshapes are implied and names are abbreviated
            kept = [t for t, k in zip(titles, self.kinds, strict=False) if k != "reshape"] or titles
            titles = [t.replace("BatchNorm", "BN") for t in kept]
        if len(titles) <= 3:
            return " · ".join(titles)
        return f"{titles[0]} · {titles[1]} … ({len(titles)} ops)"


def _shape_text(meta: Any) -> str:
    shape = getattr(meta, "shape", None)
    if shape is None:
        if isinstance(meta, list | tuple) and meta:
            return f"{len(meta)} tensors"
        return ""
    return "×".join(str(int(d)) for d in shape) if len(shape) else "scalar"


def _is_tensor_meta(meta: Any) -> bool:
    return meta is not None and hasattr(meta, "shape") and hasattr(meta, "dtype")


def _is_tensor_tuple(meta: Any) -> bool:
    return isinstance(meta, list | tuple) and bool(meta) and all(_is_tensor_meta(m) for m in meta)


def _pair(value: Any) -> str:
    if isinstance(value, tuple | list):
        return "×".join(str(v) for v in value) if len(set(value)) > 1 else f"{value[0]}×{value[0]}"
    return f"{value}×{value}"


def _describe_module(mod: Any) -> tuple[str, str, str]:
    """(kind, title, detail) of a leaf ``nn.Module``."""
    from torch import nn

    name = type(mod).__name__
    if isinstance(mod, nn.modules.conv._ConvNd):
        extra = [f"{mod.in_channels}→{mod.out_channels}"]
        if any(s != 1 for s in mod.stride):
            extra.append(f"s{_pair(mod.stride).split('×')[0]}")
        if any(d != 1 for d in mod.dilation):
            extra.append(f"d{mod.dilation[0]}")
        if mod.groups != 1:
            extra.append("dw" if mod.groups == mod.in_channels else f"g{mod.groups}")
        title = ("deconv " if mod.transposed else "conv ") + _pair(mod.kernel_size)
        return "conv", title, ", ".join(extra)
    if isinstance(mod, nn.Linear):
        return "conv", "linear", f"{mod.in_features}→{mod.out_features}"
    if isinstance(mod, nn.modules.batchnorm._NormBase | nn.GroupNorm | nn.LayerNorm | nn.LocalResponseNorm):
        short = name.replace("Norm2d", "Norm").replace("Norm1d", "Norm").replace("Norm3d", "Norm")
        detail = f"{mod.num_groups} groups" if isinstance(mod, nn.GroupNorm) else ""
        return "norm", short, detail
    if isinstance(mod, nn.Softmax | nn.LogSoftmax | nn.Softmax2d):
        return "softmax", "softmax", f"dim={getattr(mod, 'dim', 1)}"
    if isinstance(mod, nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd):
        return "pool", name.replace("Adaptive", "Adapt. ").replace("2d", ""), f"→ {_pair(mod.output_size)}"
    if isinstance(mod, nn.modules.pooling._AvgPoolNd | nn.modules.pooling._MaxPoolNd):
        detail = f"{_pair(mod.kernel_size)}, s{_pair(mod.stride).split('×')[0]}"
        return "pool", name.replace("2d", ""), detail
    if isinstance(mod, nn.Upsample):
        return "pool", "upsample", f"{mod.mode}"
    if isinstance(mod, nn.modules.dropout._DropoutNd):
        return "other", "dropout", f"p={mod.p:g}"
    if isinstance(mod, nn.Unfold | nn.Fold | nn.PixelShuffle | nn.PixelUnshuffle | nn.Flatten | nn.Unflatten):
        return "reshape", name.lower(), ""
    if name.lower().replace("_", "") in {a.replace("_", "") for a in _ACT_NAMES} or isinstance(
        mod, nn.ReLU | nn.Sigmoid | nn.Hardsigmoid | nn.GELU | nn.SiLU | nn.Tanh | nn.Hardswish
    ):
        return "act", name, ""
    if mod.__class__.__module__.startswith("torch.nn.modules.activation"):
        return "act", name, ""
    return "other", name, ""


def _op_name(node: Any) -> str:
    if node.op == "call_method":
        name = str(node.target)
    else:
        name = getattr(node.target, "__name__", str(node.target))
    name = name.strip("_") if name.startswith("__") else name
    if name.endswith("_") and not name.endswith("__"):
        name = name[:-1]  # in-place variants
    return name


def _describe_call(node: Any) -> tuple[str, str, str]:
    """(kind, title, detail) of a ``call_function`` or ``call_method`` node."""
    name = _op_name(node)
    if name in _NAMED_OPS:
        kind, title = _NAMED_OPS[name]
    elif name in _ACT_NAMES:
        kind, title = "act", name
    elif name in _POOL_NAMES:
        kind, title = "pool", name
    elif name in _RESHAPE_NAMES:
        kind, title = "reshape", name
    else:
        # helpers wrapped with torch.fx.wrap keep their own name: classify them by it
        title = name.lstrip("_")
        hints = (("softmax", "softmax"), ("norm", "norm"), ("conv", "conv"), ("attention", "matmul"))
        kind = next((k for word, k in hints if word in title), "other")
        if kind == "norm":
            norms = (
                ("batch", "BatchNorm"),
                ("layer", "LayerNorm"),
                ("group", "GroupNorm"),
                ("instance", "InstanceNorm"),
            )
            title = next((t for word, t in norms if word in title), title)
    detail = ""
    dim = node.kwargs.get("dim")
    if dim is None and kind in ("softmax", "pool", "concat") and len(node.args) > 1:
        dim = node.args[1] if isinstance(node.args[1], int | tuple | list) else None
    if dim is not None and kind in ("softmax", "pool", "concat"):
        dim_text = ",".join(str(d) for d in dim) if isinstance(dim, tuple | list) else str(dim)
        detail = f"dim={dim_text}"
    if kind == "pool" and name in ("adaptive_avg_pool2d", "adaptive_max_pool2d") and len(node.args) > 1:
        detail = f"→ {_pair(node.args[1])}"
    return kind, title, detail


def _boxes_from_graph(gm: Any) -> dict[int, Box]:
    """Turn a shape-propagated fx graph into boxes, dropping non-tensor nodes and pass-throughs."""
    nodes = list(gm.graph.nodes)
    index = {n: i for i, n in enumerate(nodes)}
    boxes: dict[int, Box] = {}
    # A non-tensor node or a getitem of a tuple of tensors forwards to the tensor nodes it reads.
    alias: dict[Any, list[int]] = {}

    def sources(arg_nodes: list[Any]) -> list[int]:
        found: list[int] = []
        for a in arg_nodes:
            if index[a] in boxes:
                found.append(index[a])
            else:
                found.extend(alias.get(a, []))
        return list(dict.fromkeys(found))

    for node in nodes:
        meta = node.meta.get("tensor_meta")
        i = index[node]
        if node.op == "output":
            ins = sources(node.all_input_nodes)
            out_meta = [n.meta.get("tensor_meta") for n in node.all_input_nodes]
            detail = _shape_text(out_meta[0]) if len(out_meta) == 1 else ""
            boxes[i] = Box(i, "io", ["output"], detail, fixed=True)
            boxes[i].ins = [(s, "") for s in ins]
            continue
        if node.op == "placeholder":
            boxes[i] = Box(i, "io", [f"input {node.target}"], _shape_text(meta), fixed=True)
            continue
        if node.op == "get_attr":
            if _is_tensor_meta(meta):
                boxes[i] = Box(i, "param", [str(node.target).split(".")[-1]], _shape_text(meta), fixed=True)
            continue
        srcs = sources(node.all_input_nodes)
        is_tensor = _is_tensor_meta(meta) or _is_tensor_tuple(meta)
        if node.op == "call_function" and node.target is operator.getitem and node.args:
            parent = node.args[0]
            parent_meta = getattr(parent, "meta", {}).get("tensor_meta")
            if _is_tensor_tuple(parent_meta) and _is_tensor_meta(meta):
                # element of a split/chunk: an edge from the splitting op with this element's shape
                boxes[i] = Box(i, "reshape", ["slice"], ops=["__getitem_of_tuple__"])
                boxes[i].ins = [(s, _shape_text(meta)) for s in srcs]
                continue
        if not is_tensor:
            # sizes, dims and other Python values read off a tensor: metadata, not data flow
            alias[node] = []
            continue
        if node.op == "call_module":
            mod = gm.get_submodule(node.target)
            if type(mod).__name__ == "Identity":
                alias[node] = srcs
                continue
            kind, title, detail = _describe_module(mod)
            op = type(mod).__name__.lower()
        else:
            kind, title, detail = _describe_call(node)
            op = _op_name(node)
        box = Box(i, kind, [title], detail, ops=[op], kinds=[kind])
        boxes[i] = box
    # Edge shapes: the shape of the tensor the source produced.
    metas = {index[n]: n.meta.get("tensor_meta") for n in nodes}
    for node in nodes:
        i = index[node]
        if i not in boxes or boxes[i].ins:
            continue
        boxes[i].ins = [(s, _shape_text(metas[s])) for s in sources(node.all_input_nodes)]
    # Getitem-of-tuple boxes are pass-throughs: connect their consumers to the splitting op.
    for key in sorted(boxes):
        b = boxes[key]
        if b.ops == ["__getitem_of_tuple__"]:
            (shape,) = {s for _, s in b.ins} or {""}
            for other in boxes.values():
                other.ins = [
                    (src2, shape) if src == key else (src, sh)
                    for src, sh in other.ins
                    for src2 in ([b.ins[0][0]] if src == key and b.ins else [src])
                ]
            del boxes[key]
    # Buffers and weights handed to one op together (a functional norm's weight, bias, running
    # statistics) are configuration, not data flow: drop them when two or more feed the same op.
    users = _consumers(boxes)
    for key in sorted(boxes):
        params = [
            s for s, _ in boxes[key].ins if s in boxes and boxes[s].kind == "param" and users[s] == [key]
        ]
        if len(params) >= 2:
            boxes[key].ins = [(s, sh) for s, sh in boxes[key].ins if s not in params]
            for p in params:
                del boxes[p]
    return boxes


def _consumers(boxes: dict[int, Box]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {k: [] for k in boxes}
    for k in sorted(boxes):
        for src, _ in boxes[k].ins:
            if src in out and k not in out[src]:
                out[src].append(k)
    return out


def _merge_runs(boxes: dict[int, Box], can_merge) -> dict[int, Box]:
    """Merge ``b`` into its only producer ``a`` when ``a`` feeds only ``b`` and ``can_merge(a, b)``."""
    changed = True
    while changed:
        changed = False
        users = _consumers(boxes)
        for key in sorted(boxes):
            b = boxes[key]
            srcs = list(dict.fromkeys(s for s, _ in b.ins))
            if b.fixed or len(srcs) != 1 or srcs[0] not in boxes:
                continue
            a = boxes[srcs[0]]
            if a.fixed or users[a.key] != [key] or not can_merge(a, b):
                continue
            kinds = [a.kind, b.kind]
            a.kind = min(kinds, key=_PRIORITY.index)
            if a.detail == "" or (b.kind == a.kind and b.detail and a.kind != kinds[0]):
                a.detail = b.detail or a.detail
            a.titles = a.titles + b.titles
            a.ops = a.ops + b.ops
            a.kinds = a.kinds + b.kinds
            for other in boxes.values():
                other.ins = [(a.key if s == key else s, sh) for s, sh in other.ins]
            del boxes[key]
            changed = True
            break
    return boxes


def _finish_reshape(boxes: dict[int, Box]) -> None:
    for b in boxes.values():
        if b.kind == "reshape" and len(b.ops) > 1:
            rest = [o for o in b.ops if o not in _PURE_VIEW]
            b.titles = (
                ["reshape"]
                if not rest
                else list(dict.fromkeys(rest)) + (["reshape"] if len(rest) < len(b.ops) else [])
            )
            b.detail = ""


def simplify(boxes: dict[int, Box], max_boxes: int = MAX_BOXES) -> dict[int, Box]:
    """Collapse reshape chains; above :data:`COMPACT_BOXES`, merge conv→norm→act runs and fold
    reshapes into the op before them; above ``max_boxes``, merge any linear run."""
    _merge_runs(boxes, lambda a, b: a.kind == "reshape" and b.kind == "reshape")
    _finish_reshape(boxes)
    if len(boxes) > min(COMPACT_BOXES, max_boxes):
        # reshapes fold into the op they follow; conv/linear absorb a following norm and activation
        _merge_runs(
            boxes,
            lambda a, b: (
                b.kind == "reshape"
                or (a.kind in ("conv", "norm") and b.kind in ("norm", "act") and a.titles[-1] not in ("act",))
            ),
        )
    if len(boxes) > max_boxes:
        _merge_runs(boxes, lambda a, b: True)
    return boxes


# --------------------------------------------------------------------------------------------- layout


def _text_width(text: str, pt: float) -> float:
    """Estimated width in inches of ``text`` in DejaVu Sans at ``pt`` points."""
    return len(text) * pt * 0.60 / 72


def _box_width(b: Box) -> float:
    return max(0.72, _text_width(b.title, TITLE_PT) + 0.18, _text_width(b.detail, DETAIL_PT) + 0.18)


def _layout(boxes: dict[int, Box]):
    """Longest-path layers, barycentre order (with dummies for long edges), and x positions."""
    keys = sorted(boxes)
    edges = sorted({(s, k) for k in keys for s, _ in boxes[k].ins if s in boxes})
    preds: dict[int, list[int]] = {k: sorted({s for s, t in edges if t == k}) for k in keys}
    succs: dict[int, list[int]] = {k: sorted({t for s, t in edges if s == k}) for k in keys}
    layer: dict[int, int] = {}
    for k in keys:  # keys are topologically ordered
        layer[k] = max((layer[p] + 1 for p in preds[k]), default=0)
    # parameters sit just above their first consumer; outputs on the last layer
    for k in keys:
        if boxes[k].kind == "param" and succs[k]:
            layer[k] = max(0, min(layer[s] for s in succs[k]) - 1)
    last = max(layer.values(), default=0)
    for k in keys:
        if boxes[k].titles == ["output"]:
            layer[k] = last
    # dummy nodes for edges spanning more than one layer
    nodes: dict[Any, dict[str, Any]] = {k: {"layer": layer[k], "w": _box_width(boxes[k])} for k in keys}
    chains: dict[tuple[int, int], list[Any]] = {}
    up: dict[Any, list[Any]] = {n: [] for n in nodes}
    down: dict[Any, list[Any]] = {n: [] for n in nodes}
    for s, t in edges:
        chain: list[Any] = [s]
        for lyr in range(layer[s] + 1, layer[t]):
            d = ("d", s, t, lyr)
            nodes[d] = {"layer": lyr, "w": DUMMY_W}
            up[d], down[d] = [], []
            chain.append(d)
        chain.append(t)
        for a, b in zip(chain, chain[1:], strict=False):
            down[a].append(b)
            up[b].append(a)
        chains[(s, t)] = chain
    n_layers = last + 1
    order: list[list[Any]] = [[] for _ in range(n_layers)]
    for n in sorted(nodes, key=lambda n: (nodes[n]["layer"], _sort_key(n))):
        order[nodes[n]["layer"]].append(n)

    def positions() -> dict[Any, float]:
        return {n: i for lyr in order for i, n in enumerate(lyr)}

    def crossings() -> int:
        pos, total = positions(), 0
        for lyr in order[:-1]:
            es = [(pos[a], pos[b]) for a in lyr for b in down[a]]
            total += sum(
                1 for i, e in enumerate(es) for f in es[i + 1 :] if (e[0] - f[0]) * (e[1] - f[1]) < 0
            )
        return total

    best, best_cross = [list(lyr) for lyr in order], crossings()
    for _ in range(6):
        for direction in ("down", "up"):
            rng = range(1, n_layers) if direction == "down" else range(n_layers - 2, -1, -1)
            nbrs = up if direction == "down" else down
            for li in rng:
                pos = positions()
                bary = {
                    n: (sum(pos[m] for m in nbrs[n]) / len(nbrs[n]) if nbrs[n] else pos[n]) for n in order[li]
                }
                order[li] = sorted(order[li], key=lambda n: (bary[n], pos[n]))
            c = crossings()
            if c < best_cross:
                best, best_cross = [list(lyr) for lyr in order], c
    order = best
    # x positions: start packed, then pull towards neighbours while keeping order and spacing
    x: dict[Any, float] = {}
    for lyr in order:
        cur = 0.0
        for i, n in enumerate(lyr):
            if i:
                cur += _min_gap(nodes, lyr[i - 1], n)
            x[n] = cur
        shift = cur / 2
        for n in lyr:
            x[n] -= shift
    for it in range(12):
        sweep = range(1, n_layers) if it % 2 == 0 else range(n_layers - 2, -1, -1)
        for li in sweep:
            lyr = order[li]
            desired = []
            for n in lyr:
                nb = (up[n] + down[n]) if it >= 8 else (up[n] if it % 2 == 0 else down[n])
                desired.append(sum(x[m] for m in nb) / len(nb) if nb else x[n])
            gaps = [0.0] + [_min_gap(nodes, lyr[i - 1], lyr[i]) for i in range(1, len(lyr))]
            for i, v in enumerate(_spaced(desired, gaps)):
                x[lyr[i]] = v
    return nodes, order, x, chains, edges


def _sort_key(n: Any) -> tuple:
    return (0, n, 0, 0) if isinstance(n, int) else (1, n[1], n[2], n[3])


def _min_gap(nodes: dict, a: Any, b: Any) -> float:
    gap = H_GAP if isinstance(a, int) and isinstance(b, int) else 0.12
    return (nodes[a]["w"] + nodes[b]["w"]) / 2 + gap


def _spaced(desired: list[float], gaps: list[float]) -> list[float]:
    """Closest positions (least squares) to ``desired`` with ``x[i] - x[i-1] >= gaps[i]`` (PAV)."""
    offsets, acc = [], 0.0
    for g in gaps:
        acc += g
        offsets.append(acc)
    targets = [d - o for d, o in zip(desired, offsets, strict=True)]
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t in targets:
        blocks.append([t, 1.0, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    ys = [b[0] for b in blocks for _ in range(b[2])]
    return [y + o for y, o in zip(ys, offsets, strict=True)]


# -------------------------------------------------------------------------------------------- drawing


def _svg(fig: Figure) -> str:
    buf = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue().decode("utf-8")


def _new_figure(width: float, height: float):
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(round(width, 2), round(height, 2)))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, round(width, 2))
        ax.set_ylim(round(height, 2), 0)
        ax.set_axis_off()
    return fig, ax


def draw(boxes: dict[int, Box], title: str = "") -> str:
    """Draw the boxes as a layered top-to-bottom diagram and return the SVG text."""
    nodes, order, x, chains, edges = _layout(boxes)
    pitch = BOX_H + LAYER_GAP
    left = min((x[n] - nodes[n]["w"] / 2 for n in nodes), default=0.0)
    right = max((x[n] + nodes[n]["w"] / 2 for n in nodes), default=1.0)
    content_w = right - left + 2 * MARGIN
    width = max(FIG_WIDTH, content_w)
    x0 = (width - (right - left)) / 2 - left
    top = MARGIN + LEGEND_H
    height = top + len(order) * pitch - LAYER_GAP + MARGIN

    def pos(n: Any) -> tuple[float, float]:
        return x[n] + x0, top + nodes[n]["layer"] * pitch + BOX_H / 2

    with matplotlib.rc_context(RC):
        fig, ax = _new_figure(width, height)
        _draw_legend(ax, sorted({b.kind for b in boxes.values()}, key=list(KINDS).index), width, title)
        users = _consumers(boxes)
        shapes = {(s, k): sh for k in sorted(boxes) for s, sh in boxes[k].ins}
        labelled: set[int] = set()
        for s, t in edges:
            chain = chains[(s, t)]
            pts = [pos(n) for n in chain]
            (sx, sy), (tx, ty) = pts[0], pts[-1]
            pts[0] = (sx, sy + BOX_H / 2)
            pts[-1] = (tx, ty - BOX_H / 2)
            skip = len(chain) > 2
            verts, codes = [pts[0]], [MplPath.MOVETO]
            for (ax_, ay), (bx, by) in zip(pts, pts[1:], strict=False):
                dy = (by - ay) * 0.5
                verts += [(ax_, ay + dy), (bx, by - dy), (bx, by)]
                codes += [MplPath.CURVE4] * 3
            colour = SKIP_COLOUR if skip else EDGE_COLOUR
            ax.add_patch(
                FancyArrowPatch(
                    path=MplPath(verts, codes),
                    arrowstyle="-|>,head_length=3.2,head_width=1.8",
                    color=colour,
                    lw=1.1 if skip else 0.8,
                    linestyle="-",
                    zorder=1,
                )
            )
            text = shapes.get((s, t), "")
            if not text or boxes[t].titles == ["output"] and s in labelled:
                continue
            if len(users[s]) > 1:
                if s in labelled:
                    continue
                labelled.add(s)
                lx, ly = pos(s)[0] + 0.04, pos(s)[1] + BOX_H / 2 + 0.10
                ha = "left"
            else:
                (ax_, ay), (bx, by) = pts[0], pts[1]
                lx, ly, ha = ax_ + 0.3 * (bx - ax_) + 0.05, ay + 0.34 * (by - ay), "left"
            ax.text(lx, ly, text, fontsize=EDGE_PT, color="#333333", ha=ha, va="center", zorder=3,
                    bbox={"boxstyle": "square,pad=0.08", "fc": "white", "ec": "none", "alpha": 0.85})  # fmt: skip
        for k in sorted(boxes):
            b = boxes[k]
            cx, cy = pos(k)
            w = nodes[k]["w"]
            _, face, edge = KINDS[b.kind]
            ax.add_patch(
                FancyBboxPatch(
                    (cx - w / 2, cy - BOX_H / 2),
                    w,
                    BOX_H,
                    boxstyle="round,pad=0,rounding_size=0.06",
                    fc=face,
                    ec=edge,
                    lw=0.9,
                    zorder=2,
                )  # fmt: skip
            )
            if b.detail:
                ax.text(cx, cy - 0.065, b.title, fontsize=TITLE_PT, ha="center", va="center", zorder=4)
                ax.text(cx, cy + 0.095, b.detail, fontsize=DETAIL_PT, ha="center", va="center",
                        color="#444444", zorder=4)  # fmt: skip
            else:
                ax.text(cx, cy, b.title, fontsize=TITLE_PT, ha="center", va="center", zorder=4)
        return _svg(fig)


def _draw_legend(ax: Any, kinds: list[str], width: float, title: str) -> None:
    cx, cy = MARGIN, MARGIN + 0.08
    if title:
        ax.text(cx, cy, title, fontsize=TITLE_PT + 0.5, ha="left", va="center", weight="bold")
        cx += _text_width(title, TITLE_PT + 0.5) + 0.25
    items = [k for k in kinds if k != "io"] + ["skip"]
    for k in items:
        label = "skip / gate edge" if k == "skip" else KINDS[k][0]
        need = 0.2 + _text_width(label, DETAIL_PT) + 0.18
        if cx + need > width - MARGIN:
            cx, cy = MARGIN, cy + 0.18
        if k == "skip":
            ax.plot([cx, cx + 0.14], [cy, cy], color=SKIP_COLOUR, lw=1.2)
        else:
            _, face, edge = KINDS[k]
            ax.add_patch(Rectangle((cx, cy - 0.05), 0.14, 0.10, fc=face, ec=edge, lw=0.7))
        ax.text(cx + 0.19, cy, label, fontsize=DETAIL_PT, ha="left", va="center", color="#333333")
        cx += need


def error_svg(module_id: str, reason: str) -> str:
    """A valid SVG with one box saying that ``module_id`` could not be traced, and why."""
    lines = textwrap.wrap(" ".join(reason.split())[:400], 90) or ["(no reason given)"]
    height = 0.9 + 0.16 * len(lines)
    with matplotlib.rc_context(RC):
        fig, ax = _new_figure(FIG_WIDTH, height)
        ax.add_patch(
            FancyBboxPatch((MARGIN, MARGIN), FIG_WIDTH - 2 * MARGIN, height - 2 * MARGIN,
                           boxstyle="round,pad=0,rounding_size=0.08", fc="#fff4f4", ec="#b03b3b", lw=1.0)
        )  # fmt: skip
        ax.text(MARGIN + 0.15, MARGIN + 0.2, f"{module_id}: this module could not be traced with torch.fx",
                fontsize=TITLE_PT + 1, ha="left", va="center", weight="bold")  # fmt: skip
        for i, line in enumerate(lines):
            ax.text(MARGIN + 0.15, MARGIN + 0.45 + 0.16 * i, line, fontsize=DETAIL_PT + 0.5, ha="left",
                    va="center", family="DejaVu Sans Mono")  # fmt: skip
        return _svg(fig)


def trace(module_id: str):
    """The module's shape-propagated ``GraphModule`` (eval mode, example input at batch 1)."""
    import torch
    from torch.fx.passes.shape_prop import ShapeProp

    import cvattn

    module = cvattn.create(module_id).eval()
    gm = torch.fx.symbolic_trace(module)
    example = cvattn.example_input(module_id, batch=1, generator=torch.Generator().manual_seed(0))
    inputs = example if isinstance(example, tuple) else (example,)
    with torch.no_grad():
        ShapeProp(gm).propagate(*inputs)
    return gm


def diagram_boxes(module_id: str, max_boxes: int = MAX_BOXES) -> dict[int, Box]:
    """The simplified boxes of ``module_id``'s diagram (raises when the module does not trace)."""
    return simplify(_boxes_from_graph(trace(module_id)), max_boxes)


def svg_for(module_id: str) -> str:
    """The SVG diagram of ``module_id``; a single explanatory box when it cannot be traced."""
    try:
        boxes = diagram_boxes(module_id)
    except Exception as exc:  # any failure of create/trace/ShapeProp becomes a readable diagram
        return error_svg(module_id, f"{type(exc).__name__}: {exc}")
    return draw(boxes)


# ---------------------------------------------------------------------------------------------- cache


def _stable(value: Any) -> Any:
    """A JSON-able, address-free rendering of a configuration value (classes by qualified name)."""
    if isinstance(value, dict):
        return {str(k): _stable(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def cache_key(module_id: str) -> str:
    """sha256 of what the diagram depends on: the module's source file (which holds its registered default
    configuration and example input shapes), the shared helpers and the registry, and this file's own
    source. Read from source, without importing torch, so that a rebuild with nothing to redraw is quick."""
    from .registry_scan import PACKAGE_DIR, scan

    dotted = scan()[module_id]  # e.g. cvattn.attention.se.SqueezeExcitation
    source = PACKAGE_DIR.parent.joinpath(*dotted.split(".")[:-1]).with_suffix(".py")
    parts = [module_id, dotted]
    for path in (source, PACKAGE_DIR / "layers.py", PACKAGE_DIR / "_registry.py", Path(__file__)):
        parts.append(path.read_text(encoding="utf-8"))
    parts.append(matplotlib.__version__)
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def _cache_paths(module_id: str, cache_dir: Path | str) -> tuple[Path, Path]:
    """``<cache_dir>/<id>.svg`` and the file beside it that holds the key it was drawn for."""
    cache_dir = Path(cache_dir)
    return cache_dir / f"{module_id}.svg", cache_dir / f"{module_id}.svg.sha256"


def is_cached(module_id: str, cache_dir: Path | str = DEFAULT_CACHE, key: str | None = None) -> bool:
    """Whether ``<cache_dir>/<id>.svg`` exists and was drawn for the current :func:`cache_key` (``key``, when
    the caller has computed it)."""
    path, key_path = _cache_paths(module_id, cache_dir)
    return (
        path.exists()
        and key_path.exists()
        and key_path.read_text(encoding="utf-8").strip() == (key or cache_key(module_id))
    )


def cached_svg(module_id: str, cache_dir: Path | str = DEFAULT_CACHE) -> Path:
    """Path of ``<cache_dir>/<id>.svg``, redrawn only when :func:`cache_key` changed.

    The key is stored beside the SVG in ``<id>.svg.sha256``; both are written atomically.
    """
    path, key_path = _cache_paths(module_id, cache_dir)
    key = cache_key(module_id)
    if is_cached(module_id, cache_dir, key):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    svg = svg_for(module_id)
    for target, text in ((path, svg), (key_path, key + "\n")):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    return path


# ------------------------------------------------------------------------------------------ command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m scripts diagrams``."""
    parser.add_argument("--only", nargs="+", metavar="ID", help="draw only these module ids")
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_CACHE,
        help="cache folder for the SVGs (default: .cache/diagrams/)",
    )


def command_diagrams(args: argparse.Namespace) -> int:
    """Draw the data-flow diagram of every registered module into a cache folder (SVG, one per id).

    Only diagrams whose inputs changed are redrawn (module source, shared helpers, default
    configuration, example input shapes, the diagram code); a module that cannot be traced gets a
    box that says why, and the command reports it.

    Options:
        --only ID [ID ...]   draw only these module ids (default: all registered modules)
        --out DIR            the cache folder (default: .cache/diagrams/)
    """
    import cvattn

    ids = args.only or cvattn.list_modules()
    unknown = [i for i in ids if i not in cvattn.list_modules()]
    if unknown:
        print(f"unknown module id(s): {', '.join(unknown)}")
        return 1
    drawn = failed = 0
    for n, module_id in enumerate(ids, 1):
        start = time.perf_counter()
        key_path = Path(args.out) / f"{module_id}.svg.sha256"
        before = key_path.read_text(encoding="utf-8") if key_path.exists() else None
        path = cached_svg(module_id, args.out)
        redrawn = before != key_path.read_text(encoding="utf-8")
        drawn += redrawn
        bad = "could not be traced" in path.read_text(encoding="utf-8")
        failed += bad
        state = ("redrawn" if redrawn else "cached") + (", NOT TRACEABLE" if bad else "")
        print(f"[{n}/{len(ids)}] {module_id}: {state} ({time.perf_counter() - start:.2f} s)", flush=True)
    print(f"{len(ids)} diagram(s) in {args.out}: {drawn} redrawn, {failed} not traceable")
    return 1 if failed else 0
