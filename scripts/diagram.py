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
  :data:`MAX_BOXES` boxes remain, conv→norm→act runs are merged, identical parallel branches are drawn
  once and marked ``(×k)``, any linear run is merged, and then regions with one way in and one way out
  become one box each (the smallest first).

The SVG is byte-identical across runs (fixed sizes, sorted iteration, ``svg.hashsalt`` and no date
or creator metadata). :func:`cached_svg` redraws only when the module's source, its default
configuration, its example input shapes or this file change. A module that cannot be traced gets a
single box that says why, still a valid SVG.
"""

from __future__ import annotations

import argparse
import functools
import io
import operator
import os
import textwrap
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / "figures" / "diagrams"  # kept in the repository (see scripts/site.py FIGURES_DIR)

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

# Sizes, in inches (the axes use inches as data units, so text and boxes keep their size). The page shows
# a diagram at its natural size (1 pt = 4/3 CSS px, scrolling sideways when it is wider than the column),
# so these point sizes are the rendered ones: 8.5 pt is 11.3 px, 9.5 pt is 12.7 px.
MIN_WIDTH = 5.0
"""Narrowest figure: room for the legend in two or three rows beside a single column of boxes."""
BOX_H = 0.44
LAYER_GAP = 0.44
H_GAP = 0.24
DUMMY_W = 0.16
MARGIN = 0.2
LEGEND_ROW = 0.24
TITLE_PT = 9.5
DETAIL_PT = 8.5
EDGE_PT = 8.5
LEGEND_PT = 8.5
MIN_LABEL_PT = 8.25
"""Smallest text in any diagram: 11 CSS px at the natural size the page shows."""
SKIP_COLOUR = "#2f6db3"
EDGE_COLOUR = "#5a5a5a"
TEXT_COLOUR = "#1a1a1a"
DETAIL_COLOUR = "#3d3d3d"
NODE_LW = 0.9
EDGE_LW = 0.8
SKIP_LW = 1.1
ARROW = "-|>,head_length=3.6,head_width=2.0"
# Edge styles, in legend order: (label, colour, line width).
EDGE_STYLES: dict[str, tuple[str, str, float]] = {
    "data": ("tensor (shape on the edge)", EDGE_COLOUR, EDGE_LW),
    "long": ("long edge: skip, gate or reuse", SKIP_COLOUR, SKIP_LW),
}

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
    "adaptive_avg_pool2d": ("pool", "adaptive avg pool"), "adaptive_max_pool2d": ("pool", "adaptive max pool"),
    "adaptive_avg_pool1d": ("pool", "adaptive avg pool"), "avg_pool2d": ("pool", "avg pool"),
    "max_pool2d": ("pool", "max pool"), "avg_pool1d": ("pool", "avg pool"), "max_pool1d": ("pool", "max pool"),
    "linalg_vector_norm": ("pool", "L2 norm"), "masked_fill": ("other", "mask"), "where": ("other", "select"),
    "gt": ("other", ">"), "ge": ("other", "≥"), "lt": ("other", "<"), "le": ("other", "≤"),
    "eq": ("other", "="), "ne": ("other", "≠"), "invert": ("other", "not"), "logical_not": ("other", "not"),
    "square": ("mul", "x²"), "maximum": ("other", "max"), "minimum": ("other", "min"),
}  # fmt: skip
# Tensors made from sizes alone (masks, position grids, constants): folded away or shown as one constant.
_CREATION = {
    "eye", "arange", "zeros", "ones", "full", "empty", "linspace", "meshgrid", "tril", "triu", "zeros_like",
    "ones_like", "full_like", "empty_like", "rand", "randn", "new_ones", "new_zeros", "new_full", "new_empty",
    "new_tensor", "tensor", "as_tensor",
}  # fmt: skip
# Ops whose later tensor arguments give only a shape or a dtype, not data.
_SHAPE_ONLY_ARGS = {"expand_as", "view_as", "reshape_as", "type_as", "to"}
# Ops that read nothing but the shape or dtype of all their tensor arguments.
_SHAPE_ONLY_ALL = {"zeros_like", "ones_like", "full_like", "empty_like", "new_ones", "new_zeros", "new_full",
                   "new_empty", "new_tensor"}  # fmt: skip
_CONSTANT_TITLES = ("mask", "positions", "constant")
# Raw names of trace plumbing that must never reach a label (tests check every diagram for them).
RAW_TRACE_NAMES = frozenset({"getitem", "getattr", "masked_fill", "eye", "arange", "zeros_like", "ones_like",
                             "full_like", "new_ones", "meshgrid", "_tensor_constant0", "linalg_vector_norm"})  # fmt: skip


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
    const: bool = False  # made from sizes alone, or an integer/boolean buffer (indices, masks)
    repeat: int = 1  # drawn once for this many identical parallel copies (see _fold_repeats)

    @property
    def title(self) -> str:
        titles = self.titles
        if len(titles) > 1:  # in a merged box, reshapes are implied and names are abbreviated
            kept = [t for t, k in zip(titles, self.kinds, strict=False) if k != "reshape"] or titles
            titles = [t.replace("BatchNorm", "BN") for t in kept]
        if len(titles) <= 3:
            text = " · ".join(titles)
        else:
            text = f"{titles[0]} · {titles[1]} … ({len(titles)} ops)"
        return text if self.repeat == 1 else f"{text} (×{self.repeat})"


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


_ACT_TITLES = {
    "relu": "ReLU", "relu6": "ReLU6", "gelu": "GELU", "silu": "SiLU", "swish": "SiLU", "sigmoid": "sigmoid",
    "tanh": "tanh", "hardsigmoid": "hard sigmoid", "hard_sigmoid": "hard sigmoid", "hardswish": "hard swish",
    "hard_swish": "hard swish", "leaky_relu": "LeakyReLU", "leakyrelu": "LeakyReLU", "elu": "ELU",
    "prelu": "PReLU", "mish": "Mish", "softplus": "softplus", "hardtanh": "hard tanh", "celu": "CELU",
    "selu": "SELU", "exp": "exp",
}  # fmt: skip


def _act_title(name: str) -> str:
    """One spelling per activation, whether it is a module (``nn.Sigmoid``) or a function (``torch.sigmoid``)."""
    return _ACT_TITLES.get(name.lower(), name)


def _conv_text(
    kernel: tuple[int, ...],
    c_in: int,
    c_out: int,
    groups: int = 1,
    stride: Any = 1,
    dilation: Any = 1,
    transposed: bool = False,
) -> tuple[str, str]:
    """(title, detail) of a convolution: ``conv1d k=3``, ``conv 3×3``, ``conv3d 3×3×3``; ``dw`` (depthwise) or
    ``group`` in front, the channels, stride, dilation and group count in the detail."""
    dims = len(kernel)
    size = f"k={kernel[0]}" if dims == 1 else "×".join(str(k) for k in kernel)
    name = {1: "conv1d", 2: "conv", 3: "conv3d"}.get(dims, f"conv{dims}d")
    if transposed:
        name = name.replace("conv", "deconv")
    extra = [f"{c_in}→{c_out}"]
    strides = tuple(stride) if isinstance(stride, tuple | list) else (stride,)
    dilations = tuple(dilation) if isinstance(dilation, tuple | list) else (dilation,)
    if any(v != 1 for v in strides):
        extra.append(f"s{strides[0]}")
    if any(v != 1 for v in dilations):
        extra.append(f"d{dilations[0]}")
    if groups != 1 and groups == c_in and not transposed:
        name = f"dw {name}"
    elif groups != 1:
        name = f"group {name}"
        extra.append(f"g={groups}")
    return f"{name} {size}", ", ".join(extra)


def _describe_module(mod: Any) -> tuple[str, str, str]:
    """(kind, title, detail) of a leaf ``nn.Module``."""
    from torch import nn

    name = type(mod).__name__
    if isinstance(mod, nn.modules.conv._ConvNd):
        title, detail = _conv_text(
            tuple(mod.kernel_size), mod.in_channels, mod.out_channels, mod.groups, mod.stride, mod.dilation,
            transposed=mod.transposed,
        )  # fmt: skip
        return "conv", title, detail
    if isinstance(mod, nn.Linear):
        return "conv", "linear", f"{mod.in_features}→{mod.out_features}"
    if isinstance(mod, nn.modules.batchnorm._NormBase | nn.GroupNorm | nn.LayerNorm | nn.LocalResponseNorm):
        short = name.replace("Norm2d", "Norm").replace("Norm1d", "Norm").replace("Norm3d", "Norm")
        detail = f"{mod.num_groups} groups" if isinstance(mod, nn.GroupNorm) else ""
        return "norm", short, detail
    if isinstance(mod, nn.Softmax | nn.LogSoftmax | nn.Softmax2d):
        return "softmax", "softmax", f"dim={getattr(mod, 'dim', 1)}"
    if isinstance(mod, nn.modules.pooling._AdaptiveAvgPoolNd | nn.modules.pooling._AdaptiveMaxPoolNd):
        title = "adaptive max pool" if "Max" in name else "adaptive avg pool"
        return "pool", title, f"→ {_pair(mod.output_size)}"
    if isinstance(mod, nn.modules.pooling._AvgPoolNd | nn.modules.pooling._MaxPoolNd):
        detail = f"{_pair(mod.kernel_size)}, s{_pair(mod.stride).split('×')[0]}"
        return "pool", "max pool" if "Max" in name else "avg pool", detail
    if isinstance(mod, nn.Upsample):
        return "pool", "upsample", f"{mod.mode}"
    if isinstance(mod, nn.modules.dropout._DropoutNd):
        return "other", "dropout", f"p={mod.p:g}"
    if isinstance(mod, nn.Unfold | nn.Fold | nn.PixelShuffle | nn.PixelUnshuffle | nn.Flatten | nn.Unflatten):
        return "reshape", name.lower(), ""
    if name.lower().replace("_", "") in {a.replace("_", "") for a in _ACT_NAMES} or isinstance(
        mod, nn.ReLU | nn.Sigmoid | nn.Hardsigmoid | nn.GELU | nn.SiLU | nn.Tanh | nn.Hardswish
    ):
        return "act", _act_title(name), ""
    if mod.__class__.__module__.startswith("torch.nn.modules.activation"):
        return "act", _act_title(name), ""
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


def _functional_conv(node: Any, name: str) -> tuple[str, str, str] | None:
    """(kind, title, detail) of ``F.conv1d/2d/3d(x, weight, ...)``, the kernel read off the weight's shape."""
    weight = node.args[1] if len(node.args) > 1 else node.kwargs.get("weight")
    meta = getattr(weight, "meta", {}).get("tensor_meta") if weight is not None else None
    if not _is_tensor_meta(meta) or len(meta.shape) < 3:
        return None
    shape = [int(d) for d in meta.shape]
    names = ("input", "weight", "bias", "stride", "padding", "dilation", "groups")
    given = dict(zip(names, node.args, strict=False)) | dict(node.kwargs)
    groups = given.get("groups", 1)
    groups = groups if isinstance(groups, int) else 1
    title, detail = _conv_text(tuple(shape[2:]), shape[1] * groups, shape[0], groups,
                               given.get("stride", 1), given.get("dilation", 1))  # fmt: skip
    return "conv", title, detail


def _describe_call(node: Any) -> tuple[str, str, str]:
    """(kind, title, detail) of a ``call_function`` or ``call_method`` node."""
    name = _op_name(node)
    if name in ("conv1d", "conv2d", "conv3d") and (described := _functional_conv(node, name)):
        return described
    if name in _CREATION:
        return "other", "constant", ""
    if name in _NAMED_OPS:
        kind, title = _NAMED_OPS[name]
    elif name in _ACT_NAMES:
        kind, title = "act", _act_title(name)
    elif name in _POOL_NAMES:
        kind, title = "pool", name
    elif name in _RESHAPE_NAMES:
        kind, title = "reshape", name
    else:
        # helpers wrapped with torch.fx.wrap keep their own name: classify them by it
        title = name.lstrip("_").replace("_", " ")
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
                name = str(node.target).split(".")[-1]
                # integer and boolean buffers are indices and masks; torch.tensor(...) in forward is a constant
                const = not (meta.dtype.is_floating_point or meta.dtype.is_complex) or name.startswith(
                    "_tensor_constant"
                )
                boxes[i] = Box(i, "param", ["constant" if name.startswith("_tensor_constant") else name],
                               _shape_text(meta), fixed=True, const=const)  # fmt: skip
            continue
        name = _op_name(node) if node.op in ("call_function", "call_method") else ""
        if name in _SHAPE_ONLY_ALL:
            srcs: list[int] = []
        elif name in _SHAPE_ONLY_ARGS and node.args and hasattr(node.args[0], "meta"):
            srcs = sources([node.args[0]])
        else:
            srcs = sources(node.all_input_nodes)
        is_tensor = _is_tensor_meta(meta) or _is_tensor_tuple(meta)
        if node.op == "call_function" and node.target in (operator.getitem, getattr) and node.args:
            parent = node.args[0]
            parent_meta = getattr(parent, "meta", {}).get("tensor_meta")
            if _is_tensor_tuple(parent_meta) and _is_tensor_meta(meta):
                # element of a split/chunk (or .values of a max): an edge from the op with this element's shape
                boxes[i] = Box(i, "reshape", ["slice"], ops=["__getitem_of_tuple__"])
                boxes[i].ins = [(s, _shape_text(meta)) for s in sources([parent])]
                continue
            if _is_tensor_meta(parent_meta) and _is_tensor_meta(meta):
                tensor_index = [
                    n
                    for n in node.all_input_nodes
                    if n is not parent and _is_tensor_meta(n.meta.get("tensor_meta"))
                ]
                # x[:, :, None] or x[..., :k] is plumbing that folds into a neighbour; x[idx] with a tensor of
                # indices is a gather: one "index" box
                op = "index" if tensor_index else "slice"
                boxes[i] = Box(i, "reshape", [op], ops=[op], kinds=["reshape"])
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
            op = name
        box = Box(i, kind, [title], detail, ops=[op], kinds=[kind], const=title == "constant")
        boxes[i] = box
    # Edge shapes: the shape of the tensor the source produced.
    metas = {index[n]: n.meta.get("tensor_meta") for n in nodes}
    for node in nodes:
        i = index[node]
        if i not in boxes or boxes[i].ins or boxes[i].fixed:
            continue
        name = _op_name(node) if node.op in ("call_function", "call_method") else ""
        if name in _SHAPE_ONLY_ALL:
            continue
        sliced = boxes[i].ops == ["slice"] or name in _SHAPE_ONLY_ARGS
        reads = (
            [node.args[0]] if sliced and node.args and hasattr(node.args[0], "meta") else node.all_input_nodes
        )
        boxes[i].ins = [(s, _shape_text(metas[s])) for s in sources(reads)]
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
            s
            for s, _ in boxes[key].ins
            if s in boxes and boxes[s].kind == "param" and not boxes[s].const and users[s] == [key]
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


def _same_copy(boxes: dict[int, Box], a: list[int], b: list[int], users: dict[int, list[int]]) -> bool:
    """Whether the run of boxes ``b`` repeats the run ``a`` (keys in order): the same operations, wired the same
    way inside, fed by the same boxes outside, and read by the same boxes outside."""
    index_a, index_b = {k: i for i, k in enumerate(a)}, {k: i for i, k in enumerate(b)}
    for ka, kb in zip(a, b, strict=True):
        x, y = boxes[ka], boxes[kb]
        if (x.kind, x.titles, x.detail, x.const) != (y.kind, y.titles, y.detail, y.const) or x.kind == "io":
            return False
        if len(x.ins) != len(y.ins):
            return False
        for (sa, sha), (sb, shb) in zip(x.ins, y.ins, strict=True):
            inside = index_a.get(sa)
            if sha != shb or (index_b.get(sb) != inside if inside is not None else sb != sa):
                return False
        outside_a = sorted(u for u in users.get(ka, []) if u not in index_a)
        outside_b = sorted(u for u in users.get(kb, []) if u not in index_b)
        if outside_a != outside_b:
            return False
    return True


def _fold_repeats(boxes: dict[int, Box]) -> bool:
    """Draw identical parallel branches once, marked ``(×k)``: a run of boxes repeated ``k`` times in a row
    (a module list applied to the same inputs, such as DDF-Up's sub-pixel branches), each copy fed by the
    same boxes and read by the same boxes. Returns whether anything was folded."""
    keys = sorted(boxes)
    users = _consumers(boxes)
    for length in range(2, len(keys) // 2 + 1):
        for start in range(len(keys) - 2 * length + 1):
            first = keys[start : start + length]
            copies = [first]
            while True:
                nxt = keys[start + len(copies) * length : start + (len(copies) + 1) * length]
                if len(nxt) < length or not _same_copy(boxes, first, nxt, users):
                    break
                copies.append(nxt)
            if len(copies) < 2:
                continue
            gone = {k for copy in copies[1:] for k in copy}
            for k in first:
                boxes[k].repeat *= len(copies)
            for k in gone:
                del boxes[k]
            for b in boxes.values():
                b.ins = [(s, sh) for s, sh in b.ins if s not in gone]
            return True
    return False


def _regions(boxes: dict[int, Box]) -> list[tuple[int, int, tuple[int, ...]]]:
    """Every run of three or more boxes that has one way in and one way out: the boxes between an entry ``e``
    and an exit ``x``, whose only outside inputs are ``e``'s own inputs and parameters and whose only outside
    readers read ``x``; as ``(e, x, members in order)``."""
    keys = sorted(boxes)
    users = _consumers(boxes)
    preds = {k: [s for s in dict.fromkeys(s for s, _ in boxes[k].ins) if s in boxes] for k in keys}
    # a topological order (merged boxes keep their first node's key, so the keys need not be one)
    order: list[int] = []
    seen: set[int] = set()

    def visit(k: int) -> None:
        seen.add(k)
        for p in preds[k]:
            if p not in seen:
                visit(p)
        order.append(k)

    for k in keys:
        if k not in seen:
            visit(k)
    below: dict[int, set[int]] = {}  # each box and every box that depends on it
    for k in reversed(order):
        below[k] = {k}.union(*(below[u] for u in users[k]))
    above: dict[int, set[int]] = {}  # each box and every box it depends on
    for k in order:
        above[k] = {k}.union(*(above[p] for p in preds[k]))
    found = []
    for e in keys:
        if boxes[e].fixed:
            continue
        allowed = set(preds[e])
        for x in sorted(below[e]):
            members = below[e] & above[x]
            if len(members) < 3 or any(boxes[v].fixed for v in members):
                continue
            if any(
                p not in members and p not in allowed and boxes[p].kind != "param"
                for v in members
                for p in preds[v]
            ):
                continue
            if any(u not in members for v in members - {x} for u in users[v]):
                continue
            found.append((e, x, tuple(sorted(members))))
    return found


def _collapse_regions(boxes: dict[int, Box], max_boxes: int) -> None:
    """Draw one box for each one-way-in, one-way-out region (see :func:`_regions`) until ``max_boxes`` boxes
    remain or no region is left: first the regions whose operations recur most often (the same block applied
    to several inputs collapses alike everywhere), the smallest of those first."""
    while len(boxes) > max_boxes:
        regions = _regions(boxes)
        if not regions:
            return
        signature = {r: tuple(t for k in r[2] for t in boxes[k].titles) for r in regions}
        count = Counter(signature.values())
        first = min(signature, key=lambda r: (-count[signature[r]], len(r[2]), r[0]))
        taken: set[int] = set()
        for e, x, members in sorted(
            (r for r in signature if signature[r] == signature[first]), key=lambda r: r[0]
        ):
            if taken & set(members):
                continue
            taken |= set(members)
            _collapse(boxes, e, x, members)


def _collapse(boxes: dict[int, Box], e: int, x: int, members: tuple[int, ...]) -> None:
    """Merge the boxes ``members`` (entry ``e`` first, exit ``x``) into the box ``e``."""
    head, inside = boxes[e], set(members)
    for k in members[1:]:
        b = boxes[k]
        head.titles, head.ops, head.kinds = head.titles + b.titles, head.ops + b.ops, head.kinds + b.kinds
        head.ins += [(s, sh) for s, sh in b.ins if s not in inside and s not in {t for t, _ in head.ins}]
    head.kind = min((boxes[k].kind for k in members), key=_PRIORITY.index)
    head.detail = next(
        (boxes[k].detail for k in members if boxes[k].kind == head.kind and boxes[k].detail), ""
    )
    for k in members[1:]:
        del boxes[k]
    for b in boxes.values():
        b.ins = [(e if s == x else s, sh) for s, sh in b.ins]


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


_MASK_OPS = {
    "eye",
    "tril",
    "triu",
    "gt",
    "ge",
    "lt",
    "le",
    "eq",
    "ne",
    "invert",
    "logical_not",
    "masked_fill",
}
_POSITION_OPS = {"arange", "meshgrid", "linspace", "sin", "cos"}
_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "lambda": "λ", "lambda_": "λ", "tau": "τ", "sigma": "σ"}
# Folded into a neighbour: views, slices, broadcasts, and dropout (the identity in eval mode, which is traced).
_PLUMBING = _PURE_VIEW | {
    "slice",
    "expand",
    "expand_as",
    "__getitem_of_tuple__",
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
}


def _fold_constants(boxes: dict[int, Box]) -> None:
    """Fold what does not depend on the inputs: masks, index buffers, position grids, and parameters
    transformed before use (``weight.flatten().chunk(2)``).

    A box computed from parameters alone disappears and its consumers read those parameters directly; a box
    computed from sizes alone (``torch.eye(h)``, ``arange``) and the integer or boolean buffers vanish where
    they only mask or index, and otherwise stand as one ``mask``/``positions``/``constant`` box."""
    data = {k for k, b in boxes.items() if b.kind == "io" and b.titles != ["output"]}
    for k in sorted(boxes):  # keys are topologically ordered
        if any(s in data for s, _ in boxes[k].ins):
            data.add(k)
    roots: dict[int, list[int]] = {}  # non-data box -> the learnable parameters it is computed from
    ops: dict[int, set[str]] = {}  # non-data box -> the ops of the sub-graph that made it
    for k in sorted(boxes):
        b = boxes[k]
        if k in data or b.titles == ["output"]:
            continue
        if b.kind == "param" and not b.const:
            roots[k], ops[k] = [k], set()
            continue
        found: list[int] = []
        made = set(b.ops)
        for s, _ in b.ins:
            found += roots.get(s, [])
            made |= ops.get(s, set())
        roots[k], ops[k] = list(dict.fromkeys(found)), made
    removed = {k for k in roots if not boxes[k].fixed or boxes[k].const}
    kept: dict[int, str] = {}  # constants shown as one box: key -> shape
    for k in sorted(data):
        b = boxes[k]
        ins: list[tuple[int, str]] = []
        for s, sh in b.ins:
            if s not in removed:
                ins.append((s, sh))
            elif roots[s]:
                ins += [(r, sh) for r in roots[s]]
            elif b.titles[0] not in ("mask", "select", "index") and not (ops[s] & _MASK_OPS):
                ins.append((s, sh))
                kept[s] = sh
        b.ins = list(dict.fromkeys(ins))
    for k in sorted(removed):
        if k in kept:
            title = "positions" if ops[k] & _POSITION_OPS else "constant"
            boxes[k] = Box(k, "param", [title], kept[k], fixed=True, const=True)
        else:
            del boxes[k]
    users = _consumers(boxes)
    for k in [k for k, b in boxes.items() if b.kind == "param" and not users[k]]:
        del boxes[k]


def _fold_scalars(boxes: dict[int, Box]) -> None:
    """A one-element parameter (a learnt scale such as ``gamma``) becomes part of its consumers' label:
    ``× γ`` instead of a box and an edge."""
    users = _consumers(boxes)
    for k in sorted(boxes):
        b = boxes.get(k)
        if b is None or b.kind != "param" or b.const or not users[k]:
            continue
        dims = [d for d in b.detail.split("×") if d]
        if b.detail != "scalar" and (not dims or any(d != "1" for d in dims)):
            continue
        name = _GREEK.get(b.titles[0], b.titles[0])
        for c in users[k]:
            consumer = boxes[c]
            first = consumer.titles[0]
            consumer.titles[0] = f"{first} {name}" if first in ("×", "+", "−", "÷") else f"{first} ({name})"
            consumer.ins = [(s, sh) for s, sh in consumer.ins if s != k]
        del boxes[k]


def _fold_plumbing(boxes: dict[int, Box]) -> None:
    """Views, permutes and slices fold into their only consumer (else into their only producer), and a mask
    into the op that made the masked tensor, so that the diagram shows the operations of the paper's figure;
    the edge keeps the shape after the reshape."""
    changed = True
    while changed:
        changed = False
        users = _consumers(boxes)
        for key in sorted(boxes):
            b = boxes[key]
            srcs = list(dict.fromkeys(s for s, _ in b.ins))
            plumbing = bool(b.ops) and all(o in _PLUMBING for o in b.ops)
            mask = b.titles in (["mask"], ["select"]) and len(srcs) == 1
            if b.fixed or not (plumbing or mask):
                continue
            cons = users[key]
            if plumbing and len(cons) == 1 and not boxes[cons[0]].fixed:
                c = boxes[cons[0]]
                c.ins = list(
                    dict.fromkeys(
                        x for s, sh in c.ins for x in ([(s2, sh) for s2 in srcs] if s == key else [(s, sh)])
                    )
                )
                del boxes[key]
                changed = True
                break
            if len(srcs) == 1 and srcs[0] in boxes and not boxes[srcs[0]].fixed and users[srcs[0]] == [key]:
                a = boxes[srcs[0]]
                a.titles, a.ops = a.titles + b.titles, a.ops + b.ops
                # a view or an eval-mode dropout leaves no name in the label; a mask does
                a.kinds = (a.kinds or [a.kind]) + (b.kinds if mask else ["reshape"] * len(b.titles))
                for other in boxes.values():
                    other.ins = [(a.key if s == key else s, sh) for s, sh in other.ins]
                del boxes[key]
                changed = True
                break


def simplify(boxes: dict[int, Box], max_boxes: int = MAX_BOXES) -> dict[int, Box]:
    """Fold constants, one-element parameters and plumbing (views, slices, masks) into their neighbours;
    collapse reshape chains; above :data:`COMPACT_BOXES`, merge conv→norm→act runs and fold reshapes into
    the op before them; above ``max_boxes``, draw repeated parallel branches once, then merge any linear run,
    then draw one box for each one-way-in, one-way-out region (smallest first)."""
    _fold_constants(boxes)
    _fold_scalars(boxes)
    _merge_runs(boxes, lambda a, b: a.kind == "reshape" and b.kind == "reshape")
    _finish_reshape(boxes)
    _fold_plumbing(boxes)
    if len(boxes) > min(COMPACT_BOXES, max_boxes):
        # reshapes fold into the op they follow; conv/linear absorb a following norm and activation
        _merge_runs(
            boxes,
            lambda a, b: (
                b.kind == "reshape"
                or (a.kind in ("conv", "norm") and b.kind in ("norm", "act") and a.titles[-1] not in ("act",))
            ),
        )
    while len(boxes) > max_boxes and _fold_repeats(boxes):
        pass
    if len(boxes) > max_boxes:
        _merge_runs(boxes, lambda a, b: True)
        _collapse_regions(boxes, max_boxes)
    return boxes


# --------------------------------------------------------------------------------------------- layout


@functools.lru_cache(maxsize=4096)
def _text_width(text: str, pt: float) -> float:
    """Width in inches of ``text`` in DejaVu Sans at ``pt`` points (measured from the glyphs, as drawn)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    width, _, _ = TextToPath().get_text_width_height_descent(
        text, FontProperties(family="DejaVu Sans", size=pt), ismath=False
    )
    return width / 72


def _box_width(b: Box) -> float:
    return max(0.8, _text_width(b.title, TITLE_PT) + 0.2, _text_width(b.detail, DETAIL_PT) + 0.2)


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


def _legend_items(kinds: list[str], styles: list[str]) -> list[tuple[str, str]]:
    """(key, label) of each legend entry: the box kinds that occur, then the edge styles that occur."""
    items = [(f"kind-{k}", KINDS[k][0]) for k in kinds if k != "io"]
    return items + [(f"edge-{e}", EDGE_STYLES[e][0]) for e in styles]


def _legend_rows(
    items: list[tuple[str, str]], width: float, title: str
) -> list[tuple[str, str, float, float]]:
    """(key, label, x, y) of each legend entry, wrapped into rows that fit ``width``."""
    cx, cy = MARGIN, MARGIN + LEGEND_ROW / 2
    if title:
        cx += _text_width(title, TITLE_PT) + 0.25
    placed = []
    for key, label in items:
        need = 0.3 + _text_width(label, LEGEND_PT) + 0.22
        if cx + need > width - MARGIN and cx > MARGIN:
            cx, cy = MARGIN, cy + LEGEND_ROW
        placed.append((key, label, cx, cy))
        cx += need
    return placed


def draw(boxes: dict[int, Box], title: str = "") -> str:
    """Draw the boxes as a layered top-to-bottom diagram and return the SVG text.

    Every artist has an id (``node-<kind>-<key>``, ``edge-<style>-<source>-<target>``, ``legend-kind-<kind>``,
    ``legend-edge-<style>``), so that a test can check that the legend shows exactly the colours drawn."""
    nodes, order, x, chains, edges = _layout(boxes)
    pitch = BOX_H + LAYER_GAP
    left = min((x[n] - nodes[n]["w"] / 2 for n in nodes), default=0.0)
    right = max((x[n] + nodes[n]["w"] / 2 for n in nodes), default=1.0)
    width = max(MIN_WIDTH, right - left + 2 * MARGIN)
    x0 = (width - (right - left)) / 2 - left
    styles = sorted({"long" if len(chains[e]) > 2 else "data" for e in edges}, key=list(EDGE_STYLES).index)
    kinds = sorted({b.kind for b in boxes.values()}, key=list(KINDS).index)
    legend = _legend_rows(_legend_items(kinds, styles), width, title)
    rows = len({y for *_, y in legend}) if legend else 1
    top = MARGIN + rows * LEGEND_ROW + 0.16
    height = top + len(order) * pitch - LAYER_GAP + MARGIN

    def pos(n: Any) -> tuple[float, float]:
        return x[n] + x0, top + nodes[n]["layer"] * pitch + BOX_H / 2

    with matplotlib.rc_context(RC):
        fig, ax = _new_figure(width, height)
        _draw_legend(ax, legend, title)
        shapes = {(s, k): sh for k in sorted(boxes) for s, sh in boxes[k].ins}
        out_shapes: dict[int, set[str]] = {}
        for (s, k), sh in shapes.items():
            if sh and boxes[k].titles != ["output"]:
                out_shapes.setdefault(s, set()).add(sh)
        labelled: set[int] = set()
        labelled_shapes: set[tuple[int, str]] = set()
        placed: list[tuple[float, float, float]] = []  # edge labels drawn so far: (left, right, y)
        for s, t in edges:
            chain = chains[(s, t)]
            pts = [pos(n) for n in chain]
            (sx, sy), (tx, ty) = pts[0], pts[-1]
            pts[0] = (sx, sy + BOX_H / 2)
            pts[-1] = (tx, ty - BOX_H / 2)
            style = "long" if len(chain) > 2 else "data"
            verts, codes = [pts[0]], [MplPath.MOVETO]
            for (ax_, ay), (bx, by) in zip(pts, pts[1:], strict=False):
                dy = (by - ay) * 0.5
                verts += [(ax_, ay + dy), (bx, by - dy), (bx, by)]
                codes += [MplPath.CURVE4] * 3
            _, colour, lw = EDGE_STYLES[style]
            arrow = FancyArrowPatch(
                path=MplPath(verts, codes), arrowstyle=ARROW, color=colour, lw=lw, zorder=1
            )
            arrow.set_gid(f"edge-{style}-{s}-{t}")
            ax.add_patch(arrow)
            text = shapes.get((s, t), "")
            if not text or boxes[t].titles == ["output"] and s in labelled:
                continue
            ha = "left"
            if len(out_shapes[s]) == 1:
                if s in labelled:
                    continue
                # one label per source, just under it and right of where its edges leave: labels of
                # neighbouring sources stay apart (their boxes are at least a label's width apart)
                labelled.add(s)
                lx, ly = pos(s)[0] + 0.06, pos(s)[1] + BOX_H / 2 + 0.12
            else:  # a source that sends differently shaped tensors: each shape once, beside its first edge
                if (s, text) in labelled_shapes:
                    continue
                labelled_shapes.add((s, text))
                (ax_, ay), (bx, by) = pts[0], pts[1]
                lx, ly = ax_ + 0.3 * (bx - ax_), ay + 0.3 * (by - ay)
                ha = "right" if bx < ax_ - 0.01 else "left"
                lx += -0.06 if ha == "right" else 0.06
            w = _text_width(text, EDGE_PT) + 0.04
            x_lo = lx - w if ha == "right" else lx
            for _ in range(4):  # a label that would cover another moves down a line (it stays by its edge)
                if not any(x_lo < r[1] and r[0] < x_lo + w and abs(ly - r[2]) < 0.15 for r in placed):
                    break
                ly += 0.15
            placed.append((x_lo, x_lo + w, ly))
            ax.text(lx, ly, text, fontsize=EDGE_PT, color=DETAIL_COLOUR, ha=ha, va="center", zorder=3,
                    bbox={"boxstyle": "square,pad=0.08", "fc": "white", "ec": "none", "alpha": 0.85})  # fmt: skip
        for k in sorted(boxes):
            b = boxes[k]
            cx, cy = pos(k)
            w = nodes[k]["w"]
            _, face, edge = KINDS[b.kind]
            box = FancyBboxPatch((cx - w / 2, cy - BOX_H / 2), w, BOX_H, boxstyle="round,pad=0,rounding_size=0.06",
                                 fc=face, ec=edge, lw=NODE_LW, zorder=2)  # fmt: skip
            box.set_gid(f"node-{b.kind}-{k}")
            ax.add_patch(box)
            if b.detail:
                ax.text(cx, cy - 0.08, b.title, fontsize=TITLE_PT, color=TEXT_COLOUR, ha="center", va="center",
                        zorder=4)  # fmt: skip
                ax.text(cx, cy + 0.11, b.detail, fontsize=DETAIL_PT, ha="center", va="center",
                        color=DETAIL_COLOUR, zorder=4)  # fmt: skip
            else:
                ax.text(
                    cx, cy, b.title, fontsize=TITLE_PT, color=TEXT_COLOUR, ha="center", va="center", zorder=4
                )
        return _svg(fig)


def _draw_legend(ax: Any, legend: list[tuple[str, str, float, float]], title: str) -> None:
    """Legend entries drawn with the very style of what they explain: a small box with the node's fill,
    outline and line width, a short arrow with the edge's colour and width."""
    if title:
        ax.text(MARGIN, MARGIN + LEGEND_ROW / 2, title, fontsize=TITLE_PT, color=TEXT_COLOUR, ha="left",
                va="center", weight="bold")  # fmt: skip
    for key, label, cx, cy in legend:
        group, name = key.split("-", 1)
        if group == "edge":
            _, colour, lw = EDGE_STYLES[name]
            sample = FancyArrowPatch((cx, cy), (cx + 0.22, cy), arrowstyle=ARROW, color=colour, lw=lw,
                                     shrinkA=0, shrinkB=0)  # fmt: skip
        else:
            _, face, edge = KINDS[name]
            sample = FancyBboxPatch((cx, cy - 0.06), 0.22, 0.12, boxstyle="round,pad=0,rounding_size=0.03",
                                    fc=face, ec=edge, lw=NODE_LW)  # fmt: skip
        sample.set_gid(f"legend-{key}")
        ax.add_patch(sample)
        ax.text(cx + 0.3, cy, label, fontsize=LEGEND_PT, ha="left", va="center", color=DETAIL_COLOUR)


ERROR_WIDTH = 7.0


def error_svg(module_id: str, reason: str) -> str:
    """A valid SVG with one box saying that ``module_id`` could not be traced, and why."""
    lines = textwrap.wrap(" ".join(reason.split())[:400], 80) or ["(no reason given)"]
    height = 1.0 + 0.2 * len(lines)
    with matplotlib.rc_context(RC):
        fig, ax = _new_figure(ERROR_WIDTH, height)
        ax.add_patch(
            FancyBboxPatch((MARGIN, MARGIN), ERROR_WIDTH - 2 * MARGIN, height - 2 * MARGIN,
                           boxstyle="round,pad=0,rounding_size=0.08", fc="#fff4f4", ec="#b03b3b", lw=1.0)
        )  # fmt: skip
        ax.text(MARGIN + 0.15, MARGIN + 0.22, f"{module_id}: this module could not be traced with torch.fx",
                fontsize=TITLE_PT, color=TEXT_COLOUR, ha="left", va="center", weight="bold")  # fmt: skip
        for i, line in enumerate(lines):
            ax.text(MARGIN + 0.15, MARGIN + 0.5 + 0.2 * i, line, fontsize=DETAIL_PT, color=TEXT_COLOUR,
                    ha="left", va="center", family="DejaVu Sans Mono")  # fmt: skip
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


_OWN_SOURCE = Path(__file__).read_text(encoding="utf-8")
"""This file as it was when imported: the code that draws. (Read at call time, an edit made while a long
build runs would file diagrams drawn by the old code under the new code's key, and they would never be
redrawn.)"""


def cache_key(module_id: str, scanned: dict[str, str] | None = None) -> str:
    """sha256 of what the diagram depends on (``diagram_key.diagram_key``), with this file's source as it was
    imported. Read from source, without importing torch, so that a rebuild with nothing to redraw is quick."""
    from .diagram_key import diagram_key
    from .registry_scan import scan

    return diagram_key(module_id, scanned or scan(), _OWN_SOURCE, matplotlib.__version__)


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
        help="cache folder for the SVGs (default: figures/diagrams/)",
    )


def command_diagrams(args: argparse.Namespace) -> int:
    """Draw the data-flow diagram of every registered module into a cache folder (SVG, one per id).

    Only diagrams whose inputs changed are redrawn (module source, shared helpers, default
    configuration, example input shapes, the diagram code); a module that cannot be traced gets a
    box that says why, and the command reports it.

    Options:
        --only ID [ID ...]   draw only these module ids (default: all registered modules)
        --out DIR            the cache folder (default: figures/diagrams/)
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
