"""What each registered module costs: parameters, FLOPs (conv/matmul and total), CPU latency, peak memory,
and their growth.

Definitions, the same everywhere in the project:

- **parameters**: ``sum(p.numel() for p in module.parameters())`` (buffers such as BatchNorm running
  statistics are not counted).
- **conv/matmul FLOPs** (``flops``): counted by ``torch.utils.flop_counter.FlopCounterMode(display=False)``
  on one forward pass in eval mode: **2 FLOPs per multiply-add of convolutions and matrix products**
  (``conv``, ``mm``, ``bmm``, ``addmm``, ``baddbmm``, ``scaled_dot_product_attention``), plus the
  matrix products its registry misses on CPU (the CPU attention kernel, ``mv``, ``dot``, ``vdot``),
  counted the same way. **MACs** (``macs``) = conv/matmul FLOPs / 2.
- **element-wise FLOPs** (``elementwise_flops``): every other arithmetic operation of the same pass,
  counted by formulas registered in the same counter (``custom_mapping``), per element:
  element-wise operators (additions, products, activations, gates, comparisons) 1 per output
  element whatever their formula (6 for a complex product); reductions (sum, mean, max) 1 per input
  element, vector norms 2, variance 4; softmax 5 per element; normalisation 2 per element with given
  statistics (eval batch norm) or 5 with computed ones (layer, group, instance norm), +1 for a weight
  and +1 for a bias; pooling 1 per element of every window; bilinear and bicubic interpolation 2 per
  tap (4 and 16 taps); an FFT 2.5·N·log2(N) per real transform of N points; bias additions inside
  convolutions and linear layers, and the scale, mask and softmax inside fused attention, 1 per
  element. Operators that only move data (views, copies, padding, indexing) count 0; an executed
  operator that neither list knows is reported (``uncounted_ops``), never silently counted as 0.
- **total FLOPs** (``total_flops``) = conv/matmul + element-wise FLOPs. All counts depend only on
  the configuration and the input shapes, so they are recomputable exactly. A module that acts only
  in training (it returns its input in eval mode) counts 0 and says so (``identity_in_eval``); so does one
  whose every operator only moves data (``moves_data_only``, e.g. TSM's temporal shift).
- **latency**: median wall time in milliseconds of repeated runs after warm-up, on CPU with a stated
  number of threads: ``forward`` is one inference pass (eval mode, ``torch.no_grad``),
  ``forward_backward`` one training step's pass (train mode, ``output.sum().backward()``, input
  requiring grad). Timings depend on the machine and are only stored, never compared.
- **peak memory**: the highest amount of tensor memory held by the CPU allocator during the pass,
  above what was held before it (the input and the parameters are not counted), in MB (10^6
  bytes). It is read from ``torch.profiler`` with ``profile_memory=True``: every profiler event
  carries the bytes it allocated minus the bytes it freed, and the running sum over the events in
  time order gives the allocation timeline, whose maximum is the peak. (``tracemalloc`` does not
  see torch's allocator, and the process RSS only ever grows, so neither is used.)

Standard inputs (:func:`measure`): attention modules are built with ``channels=64`` and ``channels=256``
and run on ``1x64x56x56`` and ``8x256x14x14`` (video attention modules, which take clips, on ``1x64x8x56x56``
and ``8x256x8x14x14``: 8 frames); other kinds run on the registry's example input at batch 1 and 8. When a module's default configuration holds the example's spatial size (an ``(H, W)``
tuple, or an int ``H`` under a name containing ``size`` or ``resolution``), it is re-bound to the
measured size; :func:`adapt_config` is that one rule, used both to measure and to recompute.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import io
import json
import math
import os
import platform
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "data" / "costs.json"
FORMAT = 2
"""2: element-wise and total FLOPs beside the conv/matmul FLOPs."""

ATTENTION_SETTINGS = ((1, 64, 56), (8, 256, 14))
"""Standard inputs of attention modules: (batch, channels, resolution)."""
CLIP_FRAMES = 8
"""Frames of the standard input of video attention modules (clips ``(N, C, T, H, W)``)."""
OTHER_BATCHES = (1, 8)
"""Batch sizes of the registry's example input for the other kinds."""
RESOLUTIONS = (14, 28, 56, 112)
"""Resolutions of :func:`scaling`; 112 only where it is affordable (see :func:`scaling`)."""
MAX_FLOPS_AT_112 = 10e9
MAX_MS_AT_56 = 60.0

_SVG_RC = {"svg.hashsalt": "cvattn", "svg.fonttype": "none", "font.family": "DejaVu Sans"}

Shapes = tuple[tuple[int, ...], ...]


# --------------------------------------------------------------------------------------- inputs


def _as_shapes(input_shape_or_inputs: Any) -> Shapes:
    """Normalise a shape, a tuple of shapes, a tensor or a tuple of tensors to a tuple of shapes."""
    value = input_shape_or_inputs
    if isinstance(value, torch.Tensor):
        return (tuple(value.shape),)
    if isinstance(value, Sequence) and value and all(isinstance(v, int) for v in value):
        return (tuple(int(v) for v in value),)
    if isinstance(value, Sequence) and value:
        return tuple(
            tuple(v.shape) if isinstance(v, torch.Tensor) else tuple(int(d) for d in v) for v in value
        )
    raise ValueError(f"expected an input shape, a tuple of shapes or tensors, got {value!r}")


def adapt_config(module_id: str, shapes: Shapes) -> dict[str, Any]:
    """The configuration overrides that make module ``module_id`` accept inputs of ``shapes``.

    - channels: for attention and fusion modules ``channels`` follows the first input's channels;
      for blocks ``in_channels`` does, and ``out_channels`` too when it equals ``in_channels`` by
      default;
    - heads: when the new channel count is not divisible by the default ``num_heads`` (Swin's 3 heads of
      96 channels, at 64 channels), ``num_heads`` keeps the default head width (64 / 32 = 2 heads), or
      falls back to the largest head count that divides the channels;
    - spatial size: a default equal to the example's ``(H, W)``, or an int equal to ``H`` under a
      name containing ``size`` or ``resolution``, follows the first input's ``(H, W)``.

    Only values that differ from the defaults are returned.
    """
    import cvattn

    spec = cvattn.get_spec(module_id)
    defaults = spec.defaults
    first = shapes[0]
    overrides: dict[str, Any] = {}
    if len(first) >= 2:
        channels = first[1]
        if "channels" in defaults and defaults["channels"] != channels:
            overrides["channels"] = channels
        if spec.kind == "block" and "in_channels" in defaults and defaults["in_channels"] != channels:
            overrides["in_channels"] = channels
            if defaults.get("out_channels") == defaults["in_channels"]:
                overrides["out_channels"] = channels
        heads = defaults.get("num_heads")
        if isinstance(heads, int) and "channels" in overrides and channels % heads:
            width = defaults["channels"] // heads
            overrides["num_heads"] = (
                channels // width
                if channels % width == 0
                else max(h for h in range(1, heads + 1) if channels % h == 0)
            )
    example = spec.inputs[0]
    if len(first) == len(example) + 1 >= 4:  # a map (C, H, W) or a clip (C, T, H, W)
        old_hw, new_hw = tuple(example[-2:]), tuple(first[-2:])
        for name, value in sorted(defaults.items()):
            if isinstance(value, tuple | list) and tuple(value) == old_hw and new_hw != old_hw:
                overrides[name] = type(value)(new_hw)
            elif (
                isinstance(value, int)
                and not isinstance(value, bool)
                and ("size" in name or "resolution" in name)
                and value == old_hw[0]
                and new_hw[0] != old_hw[0]
            ):
                overrides[name] = new_hw[0]
    return overrides


def _build(module_id: str, shapes: Shapes) -> tuple[nn.Module, dict[str, Any]]:
    import cvattn

    overrides = adapt_config(module_id, shapes)
    return cvattn.create(module_id, **overrides), overrides


def _tensors(shapes: Shapes, requires_grad: bool = False) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return tuple(torch.randn(s, generator=g).requires_grad_(requires_grad) for s in shapes)


def _scaled_shapes(
    module_id: str, batch: int, resolution: int | None = None, channels: int | None = None
) -> Shapes:
    """The registry's example shapes at ``batch``; with ``resolution``, the first input becomes
    ``resolution`` x ``resolution`` and the other maps scale by the same factor (1x1 inputs stay
    1x1); with ``channels``, the first input's channels are replaced."""
    import cvattn

    example = cvattn.get_spec(module_id).inputs
    base = example[0][-2] if len(example[0]) >= 3 else None
    shapes = []
    for i, s in enumerate(example):
        s = list(s)
        if channels is not None and i == 0:
            s[0] = channels
        if resolution is not None and base and len(s) >= 3 and (i == 0 or min(s[-2:]) > 1):
            # every map keeps its size relative to the first one (e.g. a half-resolution guide);
            # 1x1 inputs are vectors (a previous block's attention) and stay 1x1
            s[-2:] = [max(1, round(d * resolution / base)) for d in s[-2:]]  # a clip keeps its frames
            if i == 0:
                s[-2:] = [resolution, resolution]
        shapes.append((batch, *s))
    return tuple(shapes)


# ----------------------------------------------------------------------------- operation counting
#
# Two counts of one forward pass, kept apart because they mean different things:
#
# - conv/matmul FLOPs: what ``FlopCounterMode`` counts, 2 per multiply-add of convolutions and matrix
#   products, plus the matrix products its registry misses on CPU (the CPU kernel of
#   ``scaled_dot_product_attention``, ``mv``, ``dot``, ``vdot``);
# - element-wise FLOPs: every other arithmetic operation, counted per element by the formulas below,
#   registered in the same ``FlopCounterMode`` (``custom_mapping``).
#
# Operations that only move or create data (views, copies, concatenation, padding, indexing, filling)
# count 0 and are listed in MOVES_DATA; an executed operation that is in neither list is reported by
# :func:`count_ops` instead of being silently counted as 0.

_aten = torch.ops.aten

ELEMENTWISE_UNIT = (
    "add sub rsub mul div neg abs sign sgn pow sqrt rsqrt reciprocal exp exp2 expm1 log log2 log10 log1p "
    "sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh erf erfc erfinv sigmoid logit "
    "relu gelu silu mish elu leaky_relu hardsigmoid hardswish hardtanh softplus threshold _prelu_kernel "
    "clamp clamp_min clamp_max maximum minimum fmax fmin where masked_fill eq ne lt le gt ge "
    "logical_and logical_or logical_not logical_xor bitwise_and bitwise_or bitwise_not bitwise_xor "
    "floor ceil round trunc frac remainder fmod floor_divide hypot"
).split()
"""Element-wise operators that count 1 FLOP per output element, whatever their formula (a GELU counts 1
like an addition does); their in-place forms (``relu_``) count the same."""

ELEMENTWISE_TWO = "addcmul addcdiv lerp".split()
"""Element-wise operators made of two arithmetic steps: 2 per output element."""

REDUCTIONS = "sum mean prod amax amin argmax argmin logsumexp cumsum cumprod topk sort".split()
"""Reductions (and selections over a dimension): 1 per input element."""

MOVES_DATA = (
    "view _unsafe_view reshape alias permute transpose t expand unsqueeze squeeze select slice split "
    "split_with_sizes unbind unfold diagonal as_strided cat stack clone contiguous _to_copy copy_ detach "
    "lift_fresh constant_pad_nd reflection_pad1d reflection_pad2d replication_pad2d roll flip repeat "
    "index _unsafe_index index_select gather scatter index_put im2col view_as_complex view_as_real "
    "empty empty_like empty_strided new_empty zeros zeros_like ones ones_like new_ones new_zeros full "
    "full_like new_full fill zero_ scalar_tensor arange linspace eye rand randn randint rand_like "
    "randn_like bernoulli _unique2 upsample_nearest1d upsample_nearest2d _upsample_nearest_exact2d "
    "pixel_shuffle pixel_unshuffle channel_shuffle native_channel_shuffle"
).split()
"""Operators that only create, copy, rearrange or select data (nearest-neighbour resizing included):
0 FLOPs. ``im2col`` (``unfold``) copies windows; ``col2im`` (``fold``) adds them and is counted."""


def _packets(names: Sequence[str], inplace: bool = False) -> list[Any]:
    """The aten operator packets of ``names`` that exist in this torch (and their in-place forms)."""
    out = []
    for name in names:
        for n in (name, f"{name}_") if inplace else (name,):
            try:
                out.append(getattr(_aten, n))
            except (AttributeError, RuntimeError):
                continue
    return out


def _numel(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.numel()
    if isinstance(value, tuple | list) and value and isinstance(value[0], torch.Tensor):
        return value[0].numel()
    raise ValueError(f"expected a tensor or a tuple of tensors, got {type(value).__name__}")


def _raw(fn):
    """Mark ``fn`` as a raw formula: ``FlopCounterMode`` passes it the tensors, not their shapes."""
    fn._get_raw = True
    return fn


_COMPLEX = {"mul": 6, "div": 11, "add": 2, "sub": 2}
"""Real FLOPs of one complex element (a complex product is 4 multiplications and 2 additions)."""


def _per_output(cost: int, name: str = ""):
    @_raw
    def formula(*args, out_val=None, **kwargs) -> int:
        per = cost
        if isinstance(out_val, torch.Tensor) and out_val.is_complex():
            per = _COMPLEX.get(name.rstrip("_"), 2 * cost)
        return per * _numel(out_val)

    return formula


def _per_input(cost: int):
    @_raw
    def formula(*args, out_val=None, **kwargs) -> int:
        return cost * _numel(args[0])

    return formula


@_raw
def _max_min_flops(*args, out_val=None, **kwargs) -> int:
    """``max``/``min``: element-wise (1 per output element) between two tensors, else a reduction."""
    if len(args) > 1 and isinstance(args[1], torch.Tensor):
        return _numel(out_val)
    return _numel(args[0])


@_raw
def _layer_norm_flops(x, normalized_shape, weight=None, bias=None, *rest, out_val=None, **kwargs) -> int:
    return (5 + (weight is not None) + (bias is not None)) * x.numel()


@_raw
def _group_norm_flops(x, weight, bias, *rest, out_val=None, **kwargs) -> int:
    return (5 + (weight is not None) + (bias is not None)) * x.numel()


@_raw
def _batch_norm_flops(x, weight, bias, *rest, out_val=None, **kwargs) -> int:
    """``native_batch_norm`` and ``_native_batch_norm_legit``: statistics computed from the input when
    training (instance norm) or without running statistics; given statistics otherwise."""
    tensors = [r for r in rest if isinstance(r, torch.Tensor)]
    flags = [r for r in rest if isinstance(r, bool)]
    computed = (flags[0] if flags else True) or len(tensors) < 2
    return (2 + 3 * computed + (weight is not None) + (bias is not None)) * x.numel()


@_raw
def _batch_norm_eval_flops(x, weight, bias, *rest, out_val=None, **kwargs) -> int:
    """``_native_batch_norm_legit_no_training``: running statistics given."""
    return (2 + (weight is not None) + (bias is not None)) * x.numel()


def _dims(value, nd: int) -> list[int]:
    """An ``int[nd]`` argument as ``nd`` ints (torch lets one value stand for all dimensions)."""
    value = list(value) if isinstance(value, list | tuple) else [value]
    return [int(v) for v in value] * nd if len(value) == 1 else [int(v) for v in value]


def _pool_flops(nd: int):
    """Average and max pooling over ``nd`` dimensions: 1 per element of every window (output elements x
    kernel volume)."""

    @_raw
    def flops(x, kernel_size, *rest, out_val=None, **kwargs) -> int:
        return _numel(out_val) * math.prod(_dims(kernel_size, nd))

    return flops


def _adaptive_window_total(size_in: int, size_out: int) -> int:
    """Sum of the window lengths of adaptive pooling from ``size_in`` to ``size_out`` (torch's rule:
    window ``i`` spans ``floor(i*in/out)`` to ``ceil((i+1)*in/out)``)."""
    return sum(-(-(i + 1) * size_in // size_out) - (i * size_in // size_out) for i in range(size_out))


def _adaptive_pool_flops(nd: int):
    """Adaptive average and max pooling over the last ``nd`` dimensions: 1 per element of every window
    (exactly, windows may overlap)."""

    @_raw
    def flops(x, output_size, *rest, out_val=None, **kwargs) -> int:
        sizes, outs = list(x.shape[-nd:]), _dims(output_size, nd)
        lead = x.numel() // math.prod(sizes)
        return lead * math.prod(_adaptive_window_total(i, o) for i, o in zip(sizes, outs, strict=True))

    return flops


def _interpolation_flops(taps: int):
    """Interpolation: a multiply and an add per tap, per output element (bilinear 4 taps, bicubic 16)."""
    return _per_output(2 * taps)


_GRID_TAPS = {0: 4, 1: 0, 2: 16}  # grid_sampler interpolation_mode: bilinear, nearest, bicubic


@_raw
def _grid_sample_flops(x, grid, interpolation_mode, *rest, out_val=None, **kwargs) -> int:
    return 2 * _GRID_TAPS.get(int(interpolation_mode), 4) * _numel(out_val)


@_raw
def _affine_grid_flops(theta, size, *rest, out_val=None, **kwargs) -> int:
    """Each output coordinate is a 3-term dot product with a row of theta: 3 multiply-adds."""
    return 2 * 3 * _numel(out_val)


def _fft_points(shape: Sequence[int], dims: Sequence[int]) -> int:
    return math.prod(int(shape[d]) for d in dims)


def _fft_cost(batch: int, points: int, real: bool) -> int:
    """The radix-2 estimate: 5 N log2 N real FLOPs per complex transform of N points, half for a real one."""
    if points <= 1:
        return 0
    per = 5 * points * math.log2(points) / (2 if real else 1)
    return round(batch * per)


@_raw
def _fft_r2c_flops(x, dim, *rest, out_val=None, **kwargs) -> int:
    points = _fft_points(x.shape, dim)
    return _fft_cost(x.numel() // points, points, real=True)


@_raw
def _fft_c2r_flops(x, dim, *rest, out_val=None, **kwargs) -> int:
    points = _fft_points(out_val.shape, dim)
    return _fft_cost(out_val.numel() // points, points, real=True)


@_raw
def _fft_c2c_flops(x, dim, *rest, out_val=None, **kwargs) -> int:
    points = _fft_points(x.shape, dim)
    return _fft_cost(x.numel() // points, points, real=False)


@_raw
def _softmax_flops(x, *rest, out_val=None, **kwargs) -> int:
    """Softmax and log-softmax: 5 per element (max, subtract, exp, sum, divide or log-subtract)."""
    return 5 * x.numel()


@_raw
def _vector_norm_flops(x, *rest, out_val=None, **kwargs) -> int:
    """A vector norm: 2 per input element (the power or absolute value, and the sum)."""
    return 2 * x.numel()


@_raw
def _var_std_flops(x, *rest, out_val=None, **kwargs) -> int:
    """Variance and standard deviation: 4 per input element (mean, subtract, square, sum)."""
    return 4 * x.numel()


@_raw
def _col2im_flops(x, *rest, out_val=None, **kwargs) -> int:
    """``fold``: every column element is added into the output once."""
    return x.numel()


# matrix products the FlopCounterMode registry misses on CPU (counted as conv/matmul FLOPs)


@_raw
def _sdpa_cpu_flops(query, key, value, *rest, out_val=None, **kwargs) -> int:
    """Q Kᵀ and (attention) V: 2 per multiply-add, as torch's formula for the GPU kernels."""
    *lead, s_q, d_q = query.shape
    s_k, d_v = key.shape[-2], value.shape[-1]
    return 2 * math.prod(lead) * s_q * s_k * (d_q + d_v)


def sdpa_elementwise_flops(query, key, attn_mask=None, is_causal=False) -> int:
    """The element-wise work inside a fused attention kernel, per score: the scale (1), the mask (1,
    when there is one or the attention is causal) and the softmax (5)."""
    scores = math.prod(query.shape[:-1]) * key.shape[-2]
    return (6 + (attn_mask is not None or bool(is_causal))) * scores


@_raw
def _mv_flops(matrix, vector, *rest, out_val=None, **kwargs) -> int:
    return 2 * matrix.numel()


@_raw
def _dot_flops(a, b, *rest, out_val=None, **kwargs) -> int:
    return 2 * a.numel()


MATMUL_EXTRA = {
    _aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu_flops,
    _aten.mv: _mv_flops,
    _aten.dot: _dot_flops,
    _aten.vdot: _dot_flops,
}
"""Matrix products that ``FlopCounterMode`` does not count on CPU, counted with its convention."""


def _elementwise_formulas() -> dict[Any, Any]:
    table: dict[Any, Any] = {}
    for op in _packets(ELEMENTWISE_UNIT, inplace=True):
        table[op] = _per_output(1, op.__name__)
    for op in _packets(ELEMENTWISE_TWO, inplace=True):
        table[op] = _per_output(2)
    for op in _packets(REDUCTIONS):
        table[op] = _per_input(1)
    for op in _packets(["max", "min"]):
        table[op] = _max_min_flops
    for op in _packets(["_softmax", "_safe_softmax", "_log_softmax"]):
        table[op] = _softmax_flops
    for op in _packets(["linalg_vector_norm", "norm"]):
        table[op] = _vector_norm_flops
    for op in _packets(["var", "std", "var_mean", "std_mean"]):
        table[op] = _var_std_flops
    table[_aten.native_layer_norm] = _layer_norm_flops
    table[_aten.native_group_norm] = _group_norm_flops
    for op in _packets(["native_batch_norm", "_native_batch_norm_legit"]):
        table[op] = _batch_norm_flops
    table[_aten._native_batch_norm_legit_no_training] = _batch_norm_eval_flops
    for nd, names in (
        (1, ["avg_pool1d", "max_pool1d_with_indices"]),
        (2, ["avg_pool2d", "max_pool2d_with_indices"]),
        (3, ["avg_pool3d", "max_pool3d_with_indices"]),
    ):
        for op in _packets(names):
            table[op] = _pool_flops(nd)
    for nd, names in (
        (1, ["adaptive_max_pool1d"]),
        (2, ["_adaptive_avg_pool2d", "adaptive_max_pool2d"]),
        (3, ["_adaptive_avg_pool3d", "adaptive_max_pool3d"]),
    ):
        for op in _packets(names):
            table[op] = _adaptive_pool_flops(nd)
    table[_aten.upsample_linear1d] = _interpolation_flops(2)
    table[_aten.upsample_bilinear2d] = _interpolation_flops(4)
    table[_aten.upsample_bicubic2d] = _interpolation_flops(16)
    table[_aten.grid_sampler_2d] = _grid_sample_flops
    table[_aten.affine_grid_generator] = _affine_grid_flops
    table[_aten._fft_r2c] = _fft_r2c_flops
    table[_aten._fft_c2r] = _fft_c2r_flops
    table[_aten._fft_c2c] = _fft_c2c_flops
    table[_aten.col2im] = _col2im_flops
    return table


ELEMENTWISE_FORMULAS = _elementwise_formulas()
"""Element-wise FLOP formulas by aten operator, registered in ``FlopCounterMode(custom_mapping=...)``."""
_NO_ARITHMETIC = frozenset(_packets(MOVES_DATA))


def _bias_flops(func, args, kwargs, out) -> int:
    """The bias addition inside a convolution or ``addmm``/``baddbmm``: 1 per output element."""
    packet = func._overloadpacket
    if packet in (_aten.convolution, _aten._convolution):
        bias = args[2] if len(args) > 2 else kwargs.get("bias")
        return _numel(out) if isinstance(bias, torch.Tensor) else 0
    beta = args[3] if len(args) > 3 else kwargs.get("beta", 1)
    return 0 if beta == 0 else _numel(out)


def _sdpa_fused_flops(func, args, kwargs, out) -> int:
    causal = args[4] if len(args) > 4 else kwargs.get("is_causal", False)
    return sdpa_elementwise_flops(args[0], args[1], kwargs.get("attn_mask"), causal)


FUSED_ELEMENTWISE = {
    _aten.convolution: _bias_flops,
    _aten._convolution: _bias_flops,
    _aten.addmm: _bias_flops,
    _aten.baddbmm: _bias_flops,
    _aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_fused_flops,
}
"""Element-wise work inside kernels whose FLOP formula counts only their products: bias additions, and
the scale, mask and softmax of the CPU attention kernel."""


class _ExecutedOps(TorchDispatchMode):
    """Sees the operators that ``FlopCounterMode`` executes (after its decompositions): adds the element-wise
    work inside fused kernels (:data:`FUSED_ELEMENTWISE`), and records the operators that no formula counts
    and that are not known to move data only."""

    def __init__(self, known: frozenset) -> None:
        super().__init__()
        self.known = known
        self.uncounted: set[str] = set()
        self.fused: dict[str, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        if packet in FUSED_ELEMENTWISE:
            name = f"{packet} (fused element-wise)"
            self.fused[name] = self.fused.get(name, 0) + FUSED_ELEMENTWISE[packet](func, args, kwargs, out)
        elif (
            packet not in self.known
            and packet not in _NO_ARITHMETIC
            and func is not torch.ops.prim.device.default
        ):
            self.uncounted.add(str(packet))
        return out


@dataclasses.dataclass
class OpCounts:
    """The counts of one forward pass (see the module docstring for what each one covers)."""

    flops: int
    """Conv/matmul FLOPs: 2 per multiply-add of convolutions and matrix products."""
    elementwise_flops: int
    """Every other arithmetic operation, per element."""
    by_op: dict[str, int]
    """FLOPs by aten operator (both kinds)."""
    uncounted: list[str]
    """Executed operators that no formula counts and that are not known to move data only."""
    returns_input: bool = False
    """The forward returned one of its inputs unchanged (a module that acts only in training)."""

    @property
    def total_flops(self) -> int:
        return self.flops + self.elementwise_flops


def count_ops(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> OpCounts:
    """Conv/matmul and element-wise FLOPs of one forward pass of ``module`` (eval mode, no grad)."""
    from torch.utils.flop_counter import FlopCounterMode, flop_registry

    if not isinstance(inputs, tuple) or not all(isinstance(x, torch.Tensor) for x in inputs):
        raise ValueError(f"expected a tuple of input tensors, got {type(inputs).__name__}")
    module.eval()
    with (
        torch.no_grad()
    ):  # a first call may fill caches (e.g. TransNeXt's log-spaced position table): count the
        module(*inputs)  # steady state, the same in every process whatever ran before
    mapping = {**MATMUL_EXTRA, **ELEMENTWISE_FORMULAS}
    executed = _ExecutedOps(frozenset(flop_registry) | frozenset(mapping))
    # the recorder is entered first, so it sees what the counter runs after decomposing composite ops
    with torch.no_grad(), executed, FlopCounterMode(display=False, custom_mapping=mapping) as counter:
        out = module(*inputs)
    counts = counter.get_flop_counts().get("Global", {})
    matmul = sum(n for op, n in counts.items() if op not in ELEMENTWISE_FORMULAS)
    elementwise = sum(n for op, n in counts.items() if op in ELEMENTWISE_FORMULAS)
    by_op = {str(op): int(n) for op, n in counts.items()}
    by_op.update({name: n for name, n in executed.fused.items() if n})
    return OpCounts(
        flops=int(matmul),
        elementwise_flops=int(elementwise + sum(executed.fused.values())),
        by_op=dict(sorted(by_op.items())),
        uncounted=sorted(executed.uncounted),
        returns_input=any(out is x for x in inputs),
    )


def count_flops(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> int:
    """Conv/matmul FLOPs of one forward pass: 2 per multiply-add of convolutions and matrix products
    (what ``FlopCounterMode`` counts, plus the CPU attention kernel, ``mv`` and ``dot``)."""
    return count_ops(module, inputs).flops


# ----------------------------------------------------------------------------------- static costs


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (``numel``) of ``module``; buffers are not parameters."""
    return sum(p.numel() for p in module.parameters())


def static_costs(
    module_id: str, input_shape_or_inputs: Any, config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Parameters, FLOPs and MACs of ``module_id`` on one input (exactly recomputable).

    Args:
        module_id: registry id.
        input_shape_or_inputs: a full input shape ``(N, C, H, W)``, a tuple of shapes for a module
            that takes several inputs, or the tensors themselves.
        config: configuration overrides; by default :func:`adapt_config` derives them from the
            input shapes (channels and spatial size).

    Returns:
        ``{"input": [[N, C, H, W], ...], "config": {...}, "params": int, "flops": int, "macs": int,
        "elementwise_flops": int, "total_flops": int}``, plus ``"identity_in_eval": true`` when the
        forward returns its input unchanged, ``"moves_data_only": true`` when it counts 0 because every operator
        only moves data, and ``"uncounted_ops"`` when an executed operator has no
        formula (see :func:`count_ops`). ``flops`` are the conv/matmul FLOPs (2 per multiply-add of
        convolutions and matrix products), ``macs = flops // 2`` their multiply-adds,
        ``elementwise_flops`` every other arithmetic operation and ``total_flops`` the sum.
    """
    import cvattn

    shapes = _as_shapes(input_shape_or_inputs)
    if config is None:
        module, overrides = _build(module_id, shapes)
    else:
        module, overrides = cvattn.create(module_id, **config), dict(config)
    counts = count_ops(module, _tensors(shapes))
    result = {
        "input": [list(s) for s in shapes],
        "config": _jsonable(overrides),
        "params": count_parameters(module),
        "flops": counts.flops,
        "macs": counts.flops // 2,
        "elementwise_flops": counts.elementwise_flops,
        "total_flops": counts.total_flops,
    }
    if counts.returns_input:
        result["identity_in_eval"] = True
    elif counts.total_flops == 0 and not counts.uncounted:
        result["moves_data_only"] = True  # every executed operator is a view, copy, pad or index
    if counts.uncounted:
        result["uncounted_ops"] = counts.uncounted
    return result


STATIC_FIELDS = (
    "config",
    "params",
    "flops",
    "macs",
    "elementwise_flops",
    "total_flops",
    "identity_in_eval",
    "moves_data_only",
    "uncounted_ops",
)
"""The fields of a setting that :func:`static_costs` computes (exactly recomputable)."""


# ------------------------------------------------------------------------------------------ timing


def _median_ms(fn, min_runs: int = 5, max_runs: int = 50, budget_s: float = 0.4) -> tuple[float, int]:
    """Median wall time of ``fn`` in ms after warm-up, and the number of timed runs."""
    start = time.perf_counter()
    fn()
    if time.perf_counter() - start < 0.5:
        fn()
    times: list[float] = []
    spent = 0.0
    while len(times) < max_runs and (len(times) < min_runs or spent < budget_s):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        times.append(dt)
        spent += dt
        if dt > 0.1 and len(times) >= 3:  # slow: three runs are enough for a median
            break
    return statistics.median(times) * 1e3, len(times)


@contextlib.contextmanager
def _native_stderr_silenced():
    """Send what native code writes to file descriptor 2 to /dev/null meanwhile: libkineto prints a
    ``USDT: ... profiler_start`` / ``profiler_stop`` line pair for every profiler run (two per module and
    setting), which buried the progress lines. Python exceptions still propagate."""
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _peak_memory_mb(fn) -> float:
    """Peak tensor memory (MB) allocated while ``fn`` runs, above what was held before: the
    maximum of the running sum of the allocated-minus-freed bytes of ``torch.profiler`` events."""
    from torch.profiler import ProfilerActivity, profile

    with _native_stderr_silenced(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted(prof.events(), key=lambda e: (e.time_range.start, -e.time_range.end))
    current = peak = 0
    for event in events:
        current += event.self_cpu_memory_usage
        peak = max(peak, current)
    return peak / 1e6


def _passes(module: nn.Module, shapes: Shapes):
    inputs = _tensors(shapes)
    grad_inputs = _tensors(shapes, requires_grad=True)

    def forward() -> None:
        module.eval()
        with torch.no_grad():
            module(*inputs)

    def forward_backward() -> None:
        module.train()
        module.zero_grad(set_to_none=True)
        for x in grad_inputs:
            x.grad = None
        out = module(*grad_inputs)
        out = out if isinstance(out, torch.Tensor) else torch.cat([o.flatten() for o in out])
        out.float().sum().backward()

    return forward, forward_backward


def measure_setting(module_id: str, shapes: Shapes, *, memory: bool = True) -> dict[str, Any]:
    """Static costs, latency and (optionally) peak memory of ``module_id`` on inputs of ``shapes``."""
    result = static_costs(module_id, shapes)
    module, _ = _build(module_id, shapes)
    forward, forward_backward = _passes(module, shapes)
    fwd_ms, fwd_runs = _median_ms(forward)
    bwd_ms, bwd_runs = _median_ms(forward_backward)
    result["latency_ms"] = {"forward": round(fwd_ms, 3), "forward_backward": round(bwd_ms, 3)}
    result["runs"] = {"forward": fwd_runs, "forward_backward": bwd_runs}
    if memory:
        result["peak_memory_mb"] = {
            "forward": round(_peak_memory_mb(forward), 3),
            "forward_backward": round(_peak_memory_mb(forward_backward), 3),
        }
    return result


def standard_inputs(module_id: str) -> list[Shapes]:
    """The stated inputs of :func:`measure` for ``module_id`` (see the module docstring)."""
    import cvattn

    spec = cvattn.get_spec(module_id)
    if spec.kind == "attention" and len(spec.inputs[0]) == 4:  # a clip (C, T, H, W)
        return [((b, c, CLIP_FRAMES, r, r),) for b, c, r in ATTENTION_SETTINGS]
    if spec.kind == "attention":
        return [((b, c, r, r),) for b, c, r in ATTENTION_SETTINGS]
    return [_scaled_shapes(module_id, b) for b in OTHER_BATCHES]


def _cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux), else ``platform.processor()``."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance(threads: int | None = None) -> dict[str, Any]:
    """Where and how timings were taken: machine, CPU count, torch version, date, threads."""
    return {
        "machine": _cpu_name(),
        "processor": platform.processor() or platform.machine(),
        "platform": platform.platform(terse=True),
        "cpu_count": os.cpu_count(),
        "threads": threads if threads is not None else torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"


def measure(module_id: str, *, memory: bool = True) -> dict[str, Any]:
    """Costs of ``module_id`` at its standard inputs, with provenance.

    Returns:
        ``{"kind", "settings": [{"input", "config", "params", "flops", "macs", "latency_ms":
        {"forward", "forward_backward"}, "runs", "peak_memory_mb": {...}} or {"input", "error"}],
        "provenance"}``. A setting that fails records its error instead of stopping the others.
    """
    import cvattn

    settings = []
    for shapes in standard_inputs(module_id):
        try:
            settings.append(measure_setting(module_id, shapes, memory=memory))
        except Exception as exc:  # a module that fails at one size still gets its other rows
            settings.append({"input": [list(s) for s in shapes], "error": _error(exc)})
    return {
        "kind": cvattn.get_spec(module_id).kind,
        "settings": settings,
        "provenance": provenance(),
    }


def scaling(module_id: str, resolutions: Sequence[int] = RESOLUTIONS) -> dict[str, Any]:
    """FLOPs (conv/matmul and total) and forward latency of ``module_id`` at batch 1 over square
    resolutions.

    Attention modules use 64 channels, the others their example channels. 112 (and anything above
    56) is measured only where it is affordable: FLOPs extrapolated from 28→56 at most
    :data:`MAX_FLOPS_AT_112` and forward latency at 56 at most :data:`MAX_MS_AT_56` ms.

    Returns:
        ``{"channels", "resolutions": [...], "flops": [...], "total_flops": [...], "latency_ms": [...]}``
        (``flops`` conv/matmul, ``total_flops`` with the element-wise work, as in :func:`static_costs`),
        plus ``"error"`` when a resolution failed (the lists stop before it).
    """
    channels = _scaling_channels(module_id)
    out: dict[str, Any] = {"resolutions": [], "flops": [], "total_flops": [], "latency_ms": []}
    for r in sorted(resolutions):
        if r > 56 and len(out["flops"]) >= 2 and out["resolutions"][-1] == 56:
            growth = out["flops"][-1] / max(out["flops"][-2], 1)
            if out["flops"][-1] * growth > MAX_FLOPS_AT_112 or out["latency_ms"][-1] > MAX_MS_AT_56:
                out["skipped"] = [x for x in resolutions if x >= r]
                break
        shapes = _scaled_shapes(module_id, 1, r, channels)
        try:
            static = static_costs(module_id, shapes)
            module, _ = _build(module_id, shapes)
            forward, _ = _passes(module, shapes)
            ms, _ = _median_ms(forward, min_runs=3, max_runs=20, budget_s=0.2)
        except Exception as exc:
            out["error"] = f"at {r}x{r}: {_error(exc)}"
            break
        out["resolutions"].append(r)
        out["flops"].append(static["flops"])
        out["total_flops"].append(static["total_flops"])
        out["latency_ms"].append(round(ms, 3))
    out["channels"] = shapes[0][1] if out["resolutions"] else channels
    return out


def _scaling_channels(module_id: str) -> int | None:
    """Channels of :func:`scaling`: 64 for attention modules, the example's (None) for the others."""
    import cvattn

    return 64 if cvattn.get_spec(module_id).kind == "attention" else None


def recount(module_id: str, entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` (a stored :func:`module_entry`) with its static costs counted again and its timings,
    memory and provenance kept: every setting's :data:`STATIC_FIELDS`, and the FLOPs of :func:`scaling`
    at the resolutions it holds. A setting that recorded an error is kept as it is."""
    entry = json.loads(json.dumps(entry))  # a copy
    for setting in entry.get("settings", []):
        if "error" in setting:
            continue
        static = static_costs(module_id, [tuple(s) for s in setting["input"]])
        for field in STATIC_FIELDS:
            setting.pop(field, None)
        setting.update({k: v for k, v in static.items() if k in STATIC_FIELDS})
    scale = entry.get("scaling")
    if scale and scale.get("resolutions"):
        channels = _scaling_channels(module_id)
        counted = [
            static_costs(module_id, _scaled_shapes(module_id, 1, r, channels)) for r in scale["resolutions"]
        ]
        scale["flops"] = [s["flops"] for s in counted]
        scale["total_flops"] = [s["total_flops"] for s in counted]
    return entry


# ------------------------------------------------------------------------------------------- plot

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _power_of_ten_label(value: float, _position: int | None = None) -> str:
    """``10⁶`` for a power of ten, nothing otherwise: plain text, so matplotlib need not parse mathtext
    (the default log-axis labels are ``$10^{6}$``, and parsing them was half the time of a plot)."""
    if value <= 0:
        return ""
    exponent = round(math.log10(value))
    if not math.isclose(value, 10.0**exponent, rel_tol=1e-9):
        return ""
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _plain_log_axis(axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(_power_of_ten_label))


PLOT_LABELS = {
    "en": {
        "flops": "FLOPs, forward",
        "total": "total (with element-wise)",
        "matmul": "conv/matmul only",
        "matmul_part": "of which conv/matmul",
        "latency": "CPU latency, forward (ms)",
        "resolution": "input resolution (batch 1)",
        "bars_flops": "FLOPs, forward (log scale)",
        "bars_latency": "CPU latency, forward+backward (ms, log scale)",
        "no_flops": "no arithmetic at any resolution\n(it only moves data)",
    },
    "zh": {
        "flops": "前向 FLOPs",
        "total": "合计（含逐元素运算）",
        "matmul": "仅卷积/矩阵乘",
        "matmul_part": "其中卷积/矩阵乘",
        "latency": "CPU 前向延迟 (ms)",
        "resolution": "输入分辨率（batch 为 1）",
        "bars_flops": "前向 FLOPs（对数坐标）",
        "bars_latency": "CPU 前向+反向延迟（ms，对数坐标）",
        "no_flops": "各分辨率下均无算术运算\n（只搬移数据）",
    },
}
"""The text of the cost plots, one figure per language (the zh pages get the ``.zh.svg`` figures)."""


def _plot_labels(lang: str) -> dict[str, str]:
    if lang not in PLOT_LABELS:
        raise ValueError(f"unknown language {lang!r}: expected one of {', '.join(PLOT_LABELS)}")
    return PLOT_LABELS[lang]


@contextlib.contextmanager
def _plot_style(lang: str):
    """The SVG settings of every cost plot. Text stays text (``svg.fonttype: none``): the browser draws the
    Chinese labels with its own CJK font, and matplotlib only measures them with the first of the fonts
    below that it has (the leaderboard scatter does the same)."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    rc = dict(_SVG_RC)
    if lang != "en":
        rc["font.family"] = ["DejaVu Sans", "Noto Sans CJK SC", "Noto Sans CJK JP"]
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"findfont: Font family .* not found", category=UserWarning)
        yield


def _svg_text(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return buf.getvalue().decode("utf-8")


def plot_scaling(data: dict[str, Any], lang: str = "en") -> str:
    """Log-log SVG of FLOPs (total, and the conv/matmul part dashed) and forward latency against
    resolution, with its text in ``lang`` (``en`` or ``zh``).

    ``data`` is one :func:`scaling` result, or a mapping of module id to such results (one colour
    each). Dotted guides show growth proportional to H·W and to (H·W)², from the first total. Zero
    counts have no place on a log axis and are left out. Byte-identical across runs.
    """
    from matplotlib.figure import Figure

    L = _plot_labels(lang)
    series = {"": data} if "resolutions" in data else dict(sorted(data.items()))
    with _plot_style(lang):
        fig = Figure(figsize=(8.0, 3.2))
        axes = fig.subplots(1, 2)
        panels = (
            (axes[0], (("total_flops", "-", L["total"]), ("flops", "--", L["matmul"])), L["flops"]),
            (axes[1], (("latency_ms", "-", ""),), L["latency"]),
        )
        for ax, lines, ylabel in panels:
            firsts = []
            for n, (name, s) in enumerate(series.items()):
                color = f"C{n % 10}"
                for key, style, what in lines:
                    xs, ys = s.get("resolutions", []), s.get(key, [])
                    pts = [(x, y) for x, y in zip(xs, ys, strict=False) if y and y > 0]
                    if not pts:
                        continue
                    label = ", ".join(part for part in (name, what) if part) or None
                    ax.plot(
                        *zip(*pts, strict=True),
                        ls=style,
                        marker="o",
                        ms=3.5 if style == "-" else 2.5,
                        lw=1.4 if style == "-" else 1.0,
                        color=color,
                        label=label,
                    )
                    if key != "flops":
                        firsts.append(pts[0])
            if firsts:
                x0, y0 = min(firsts)
                xs = [x0, max(RESOLUTIONS)]
                ax.plot(xs, [y0 * (x / x0) ** 2 for x in xs], ls=":", lw=0.9, color="#777777", label="∝ H·W")
                ax.plot(
                    xs, [y0 * (x / x0) ** 4 for x in xs], ls="--", lw=0.9, color="#aaaaaa", label="∝ (H·W)²"
                )
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            _plain_log_axis(ax.yaxis)
            ax.set_xticks(list(RESOLUTIONS), [f"{r}×{r}" for r in RESOLUTIONS])
            ax.minorticks_off()
            ax.set_xlabel(L["resolution"], fontsize=8)
            ax.set_ylabel(ylabel, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, which="major", lw=0.4, color="#dddddd")
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=6.5, frameon=False, loc="upper left")
            elif (
                not ax.lines
            ):  # a shift (TSM) or an identity in eval mode (WCD): zero FLOPs, nothing on a log axis
                ax.text(0.5, 0.5, L["no_flops"], ha="center", va="center", fontsize=8, transform=ax.transAxes)
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.16, top=0.95, wspace=0.3)
        return _svg_text(fig)


def plot_comparison(costs: dict[str, Any], module_ids: Sequence[str], lang: str = "en") -> str:
    """Horizontal bars of the FLOPs (total, with the conv/matmul part darker) and forward+backward latency
    of every attention module at the first standard input (1x64x56x56), sorted by total FLOPs, with its
    text in ``lang``; an SVG, byte-identical across runs."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    L = _plot_labels(lang)
    rows = []
    for module_id in sorted(module_ids):
        entry = costs.get("modules", {}).get(module_id)
        if not entry or entry.get("kind") != "attention" or not entry.get("settings"):
            continue
        first = entry["settings"][0]
        if "flops" in first and "latency_ms" in first:
            total = first.get("total_flops", first["flops"])
            rows.append((module_id, total, first["flops"], first["latency_ms"]["forward_backward"]))
    rows.sort(key=lambda r: (r[1], r[0]))
    height = max(2.0, 0.22 * len(rows) + 0.9)
    light, dark = "#9fa8da", "#283593"
    with _plot_style(lang):
        fig = Figure(figsize=(8.0, height))
        axes = fig.subplots(1, 2, sharey=True)
        names = [r[0] for r in rows]
        ax = axes[0]
        for column, color in ((1, light), (2, dark)):  # a zero has no bar on a log axis
            bars = [(i, r[column]) for i, r in enumerate(rows) if r[column] > 0]
            if bars:
                ax.barh([i for i, _ in bars], [v for _, v in bars], color=color, height=0.7)
        ax.legend(  # the rows are sorted by total: the top right corner holds the shortest bars
            handles=[Patch(color=light, label=L["total"]), Patch(color=dark, label=L["matmul_part"])],
            fontsize=6.5,
            frameon=False,
            loc="upper right",
        )
        axes[1].barh(range(len(rows)), [r[3] for r in rows], color="#3f51b5", height=0.7)
        for ax, label in ((axes[0], L["bars_flops"]), (axes[1], L["bars_latency"])):
            ax.set_xscale("log")
            _plain_log_axis(ax.xaxis)
            ax.set_xlabel(label, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, axis="x", lw=0.4, color="#dddddd")
        axes[0].set_yticks(range(len(rows)), names)
        axes[0].set_ylim(len(rows) - 0.4, -0.6)  # first row on top, no empty rows around the bars
        fig.subplots_adjust(left=0.22, right=0.98, bottom=0.9 / height, top=1 - 0.2 / height, wspace=0.08)
        return _svg_text(fig)


# ----------------------------------------------------------------------------------------- data file


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', repr(value))}"


def load_costs(path: Path | str = DEFAULT_OUT) -> dict[str, Any]:
    """The costs data file, or an empty one when it does not exist."""
    path = Path(path)
    if not path.exists():
        return {"format": FORMAT, "modules": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def dump_costs(data: dict[str, Any]) -> str:
    """The data file's text: sorted keys, two-space indent, a final newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def module_entry(module_id: str, *, threads: int = 1) -> dict[str, Any]:
    """Everything stored for one module: :func:`measure` and :func:`scaling`, under ``threads``."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        entry = measure(module_id)
        entry["scaling"] = scaling(module_id)
        entry["provenance"] = provenance(threads)
        return entry
    finally:
        torch.set_num_threads(previous)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``python -m scripts costs``."""
    parser.add_argument("--only", nargs="+", metavar="ID", help="measure only these module ids")
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="data file (default: docs/data/costs.json)"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for timing (default: 1)")
    parser.add_argument(
        "--static-only",
        action="store_true",
        help="count parameters and FLOPs again, keeping the stored timings and memory (no timing)",
    )


def command_costs(args: argparse.Namespace) -> int:
    """Measure every registered module's costs and store them in docs/data/costs.json.

    For each module: parameters, conv/matmul FLOPs and MACs, element-wise and total FLOPs (exactly
    recomputable; a test recomputes them),
    CPU latency (median, forward and forward+backward) and peak memory at the standard inputs
    (attention: 1x64x56x56 and 8x256x14x14, video attention on 8-frame clips of these; others: the
    example input at batch 1 and 8), and FLOPs
    and latency at resolutions 14, 28, 56 (112 where affordable). Each entry records its provenance
    (machine, CPU count, threads, torch version, date). Prints one progress line per module.

    Options:
        --only ID [ID ...]   measure only these ids and keep the other entries of the file
                             (default: measure all registered modules; entries of ids no longer
                             registered are dropped)
        --out FILE           the data file (default: docs/data/costs.json)
        --threads N          torch CPU threads while timing (default: 1)
        --static-only        count parameters and FLOPs again (every setting and every resolution
                             of the scaling) and keep the stored latency, memory and provenance:
                             seconds instead of minutes, and no new timing noise; every id must
                             already have an entry (default: measure everything)
    """
    import cvattn

    registered = cvattn.list_modules()
    ids = args.only or registered
    unknown = [i for i in ids if i not in registered]
    if unknown:
        print(f"unknown module id(s): {', '.join(unknown)}")
        return 1
    static_only = getattr(args, "static_only", False)
    data = load_costs(args.out) if args.only or static_only else {"format": FORMAT, "modules": {}}
    data["modules"] = {k: v for k, v in data.get("modules", {}).items() if k in registered}
    if static_only:
        unmeasured = [i for i in ids if i not in data["modules"]]
        if unmeasured:
            print(
                f"--static-only keeps stored timings, but {args.out} has no entry for: {', '.join(unmeasured)} "
                f"(measure them first: python -m scripts costs --only {' '.join(unmeasured)})"
            )
            return 1
    failed = 0
    total = time.perf_counter()
    for n, module_id in enumerate(ids, 1):
        start = time.perf_counter()
        if static_only:
            entry = recount(module_id, data["modules"][module_id])
        else:
            entry = module_entry(module_id, threads=args.threads)
        data["modules"][module_id] = entry
        errors = [s["error"] for s in entry["settings"] if "error" in s]
        if "error" in entry["scaling"]:
            errors.append(entry["scaling"]["error"])
        ok = [s for s in entry["settings"] if "error" not in s]
        uncounted = sorted({op for s in ok for op in s.get("uncounted_ops", [])})
        if uncounted:
            errors.append(f"no FLOP formula for {', '.join(uncounted)} (add one in scripts/costs.py)")
        failed += bool(errors)
        summary = ", ".join(
            f"{'x'.join(map(str, s['input'][0]))}: {s['flops'] / 1e6:.1f} MFLOPs conv/matmul, "
            f"{s['total_flops'] / 1e6:.1f} total, {s['latency_ms']['forward']:.2f} ms"
            for s in ok
        )
        note = f"; ERROR {errors[0]}" if errors else ""
        print(
            f"[{n}/{len(ids)}] {module_id}: {summary}{note} ({time.perf_counter() - start:.1f} s)",
            flush=True,
        )
    data["format"] = FORMAT
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(dump_costs(data), encoding="utf-8")
    verb = "counted (timings kept)" if static_only else "measured"
    print(f"{len(ids)} module(s) {verb} in {time.perf_counter() - total:.1f} s -> {args.out}")
    return 1 if failed else 0
