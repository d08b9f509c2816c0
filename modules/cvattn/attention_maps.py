"""Capture the spatial attention maps of modules during a forward pass, with hooks.

Nothing in the modules changes. For a module whose map is the output of one of its submodules (CBAM's
spatial gate, sSE's gate, ...), a forward hook reads that output and reduces it to one ``(N, H, W)`` map.
Pairwise attention (non-local, DANet's position attention, criss-cross, GCNet's context weights) is
computed inline, often inside ``scaled_dot_product_attention``, so the ``H*W x H*W`` matrix never exists;
for those a hook keeps the module's input and, after the forward pass, recomputes from the module's own
layers the attention that the *centre* query position pays to every position (the map the Non-local and
DANet papers draw for a chosen query). The table :data:`SPATIAL_MAPS` says which; ids that are not
registered are skipped.

Example:
    >>> import torch, cvattn
    >>> from cvattn.attention_maps import capture
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), cvattn.create("cbam", channels=16))
    >>> maps = capture(net, torch.randn(2, 3, 20, 24))
    >>> {name: tuple(m.shape) for name, m in maps.items()}
    {'1': (2, 20, 24)}
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ._registry import get_spec, list_modules


def _single(outputs: list[torch.Tensor]) -> torch.Tensor:
    return outputs[0][:, 0]  # (N, 1, H, W) -> (N, H, W)


def _channel_mean(outputs: list[torch.Tensor]) -> torch.Tensor:
    return outputs[0].mean(1)  # (N, C, H, W) -> (N, H, W)


def _sigmoid(outputs: list[torch.Tensor]) -> torch.Tensor:
    return torch.sigmoid(outputs[0][:, 0])  # logits (N, 1, H, W) -> (N, H, W)


def _outer_product(outputs: list[torch.Tensor]) -> torch.Tensor:
    g_h, g_w = outputs[:2]  # (N, C, H, 1) and (N, C, 1, W)
    return (g_h * g_w).mean(1)  # the gate applied to x, averaged over channels: (N, H, W)


def _softmax_positions(outputs: list[torch.Tensor]) -> torch.Tensor:
    logits = outputs[0][:, 0]  # (N, 1, H, W) -> (N, H, W)
    return torch.softmax(logits.flatten(1), -1).view_as(logits)


def _centre(x: torch.Tensor) -> int:
    """Flat index of the centre position of an ``(N, C, H, W)`` map."""
    return (x.shape[2] // 2) * x.shape[3] + x.shape[3] // 2


def _non_local_centre(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Row of the non-local affinity ``f(x_i, x_j)`` (normalised as the module does) for the centre query;
    when the keys were pooled, each key's weight is spread evenly over the positions it pooled."""
    kv = module.pool(x)
    if module.mode == "gaussian":
        q, k = x, kv
    else:
        q, k = module.theta(x), module.phi(kv)
    q_c = q.flatten(2)[:, :, _centre(x)]  # (N, Ci)
    k = k.flatten(2)  # (N, Ci, M)
    if module.mode in ("embedded_gaussian", "gaussian"):
        row = torch.softmax(module.scale * torch.einsum("nc,ncm->nm", q_c, k), -1)
    elif module.mode == "dot_product":
        row = torch.einsum("nc,ncm->nm", q_c, k) / k.shape[2]
    else:
        w_q, w_k = module.concat_project.weight.flatten().chunk(2)
        row = F.relu((q_c @ w_q)[:, None] + torch.einsum("c,ncm->nm", w_k, k)) / k.shape[2]
    # each pooled key stands for a cell of input positions: spread its weight evenly over that cell
    key_index = torch.arange(k.shape[2], device=x.device, dtype=x.dtype).view(1, 1, *kv.shape[2:])
    key_of = F.interpolate(key_index, size=x.shape[2:], mode="nearest")[0, 0].long()  # (H, W)
    cell = torch.bincount(key_of.flatten(), minlength=k.shape[2]).to(x.dtype)
    return row[:, key_of] / cell[key_of]


def _position_attention_centre(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """DANet PAM: ``S = softmax_j(B_i . C_j)`` (unscaled) for the centre query ``i``."""
    q_c = module.query(x).flatten(2)[:, :, _centre(x)]
    k = module.key(x).flatten(2)
    return torch.softmax(torch.einsum("nc,ncm->nm", q_c, k), -1).view(x.shape[0], *x.shape[2:])


def _criss_cross_centre(module: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """CCNet: how much each position reaches the centre query through the ``R`` criss-cross passes.

    Each pass spreads a position's attention over its row and column; the map is the product of the
    passes' attention matrices (the last pass first), read at the centre query: after two passes every
    position contributes, as the paper argues.
    """
    n, _, h, w = x.shape
    reach = torch.zeros(n, h * w, dtype=x.dtype, device=x.device)
    reach[:, _centre(x)] = 1.0  # the centre query's weight on each position, so far
    eye_h = torch.eye(h, dtype=x.dtype, device=x.device)
    eye_w = torch.eye(w, dtype=x.dtype, device=x.device)
    passes = []
    for _ in range(module.recurrence):
        a = module.attention(module.query(x), module.key(x))  # the weights this pass applies
        a_h, a_w = a[..., :h], a[..., h:]  # (N, H, W, H) over the column, (N, H, W, W) over the row
        dense = (  # the same weights as a full (HW x HW) matrix: [i, j] attends to [g, j] and [i, g]
            a_h[..., None] * eye_w[None, None, :, None, :]
            + a_w[:, :, :, None, :] * eye_h[None, :, None, :, None]
        )
        passes.append(dense.reshape(n, h * w, h * w))
        x = module.criss_cross(x)
    for a in reversed(passes):  # the centre's output depends on pass R, which reads pass R-1, ...
        reach = torch.einsum("nu,nup->np", reach, a)
    return reach.view(n, h, w)


_CJK = re.compile("[\u4e00-\u9fff]")


@dataclass(frozen=True)
class MapSource:
    """Where a module's spatial map comes from: the output of a submodule (path inside the module) and a
    reduction of it, or, with ``recompute``, a function of the module and its input. ``meaning`` and
    ``meaning_zh`` say what the map is, in English and in Chinese (the gallery's captions)."""

    submodule: str
    reduce: Callable[[list[torch.Tensor]], torch.Tensor] | None
    meaning: str
    meaning_zh: str
    recompute: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None = None

    def __post_init__(self) -> None:
        if not self.meaning.strip():
            raise ValueError("MapSource: meaning is empty")
        if not _CJK.search(self.meaning_zh):
            raise ValueError(
                f"MapSource: meaning_zh {self.meaning_zh!r} is not Chinese (for {self.meaning!r})"
            )


def _pairwise(
    function: Callable[[nn.Module, torch.Tensor], torch.Tensor], meaning: str, meaning_zh: str
) -> MapSource:
    return MapSource("", None, meaning, meaning_zh, recompute=function)


_CBAM_MS = "M_s = sigmoid(BN(conv7x7([max_c; mean_c])))"
_CBAM_MS_ZH = "空间权重 M_s，对通道维分别做最大池化和平均池化，拼接后经 7×7 卷积、BN 和 sigmoid 生成"
_SSE = "sSE gate q = sigmoid(conv1x1(x))"
_SSE_ZH = "sSE 分支的空间门控 q，由 1×1 卷积把每个位置的特征压缩为单个值后经 sigmoid 生成"

SPATIAL_MAPS: dict[str, MapSource] = {
    "cbam": MapSource("spatial_gate.gate", _single, _CBAM_MS, _CBAM_MS_ZH),
    "cbam-spatial": MapSource("gate", _single, _CBAM_MS, _CBAM_MS_ZH),
    "bam": MapSource(
        "gate",
        _channel_mean,
        "sigmoid(M_c + M_s), averaged over channels",
        "通道分支 M_c 与空间分支 M_s 相加后经 sigmoid 得到的注意力，沿通道取平均",
    ),
    "scse": MapSource("sse.gate", _single, _SSE, _SSE_ZH),
    "scse-sse": MapSource("gate", _single, _SSE, _SSE_ZH),
    "triplet-attention": MapSource(
        "hw",
        _single,
        "gate of the (H, W) branch",
        "三个分支中 (H, W) 分支的门控，对通道维做 Z-pool 后经 7×7 卷积、BN 和 sigmoid 生成",
    ),
    "coordinate-attention": MapSource(
        "gate",
        _outer_product,
        "g^h * g^w, averaged over channels",
        "高度方向注意力 g^h 与宽度方向注意力 g^w 的乘积，即实际作用在特征上的权重，沿通道取平均",
    ),
    "rga-spatial": MapSource(
        "W",
        _sigmoid,
        "sigmoid of the relation-aware spatial logits",
        "关系感知的空间注意力，由每个位置与所有位置的成对关系及该位置自身的特征推得 logits，再经 sigmoid 生成",
    ),
    "aff-mscam": MapSource(
        "gate",
        _channel_mean,
        "MS-CAM weights, averaged over channels",
        "MS-CAM 的权重（局部分支与全局分支相加后经 sigmoid），沿通道取平均",
    ),
    "gcnet": MapSource(
        "conv_mask",
        _softmax_positions,
        "context weights a = softmax_HW(W_k x)",
        "上下文建模中各位置的权重 a = softmax_HW(W_k x)，即 1×1 卷积 W_k 的输出在全部 H×W 个位置上做 softmax",
    ),
    "non-local": _pairwise(
        _non_local_centre,
        "softmax_j(theta_c . phi_j): the centre query's attention",
        "以中心位置为查询时的注意力 softmax_j(θ_c · φ_j)，即它分配给每个位置 j 的权重",
    ),
    "non-local-gaussian": _pairwise(
        _non_local_centre,
        "softmax_j(x_c . x_j): the centre query's attention",
        "以中心位置为查询时的注意力 softmax_j(x_c · x_j)（高斯形式，直接对输入特征做点积）",
    ),
    "non-local-dot-product": _pairwise(
        _non_local_centre,
        "theta_c . phi_j / M: the centre query's affinity",
        "中心位置与各位置的相似度 θ_c · φ_j / M（点积形式，不做 softmax，除以位置数 M 归一化）",
    ),
    "non-local-concatenation": _pairwise(
        _non_local_centre,
        "ReLU(w^T [theta_c, phi_j]) / M: the centre query's affinity",
        "中心位置与各位置的相似度 ReLU(wᵀ[θ_c, φ_j]) / M（拼接形式，除以位置数 M 归一化）",
    ),
    "danet-pam": _pairwise(
        _position_attention_centre,
        "S = softmax_j(B_c . C_j) for the centre query",
        "位置注意力模块（PAM）以中心位置为查询时的注意力 S = softmax_j(B_c · C_j)",
    ),
    "ccnet": _pairwise(
        _criss_cross_centre,
        "the centre query's attention through R criss-cross passes",
        "经过 R 轮十字交叉注意力后，中心查询位置对各位置的累积注意力（两轮后即可覆盖整张特征图）",
    ),
}
"""Registry id -> the submodule whose output is its spatial map, verified against each module's forward."""


def spatial_ids() -> list[str]:
    """Registered ids whose spatial attention map can be captured."""
    registered = set(list_modules())
    return sorted(i for i in SPATIAL_MAPS if i in registered)


class AttentionMaps:
    """Context manager recording the spatial map of every supported module inside ``model``.

    ``maps`` maps each module's path in ``model`` to its latest ``(N, H, W)`` map (detached, float32,
    on the CPU). A supported module nested in another supported one (CBAM's spatial gate) is reported
    once, by the outer module.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.maps: dict[str, torch.Tensor] = {}
        self.ids: dict[str, str] = {}
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> AttentionMaps:
        by_class = {get_spec(i).cls: i for i in spatial_ids()}
        found: list[str] = []
        for name, module in self.model.named_modules():
            id = by_class.get(type(module))
            if id is None or any(name.startswith(outer + ".") or outer == "" for outer in found):
                continue
            try:
                source_module = module.get_submodule(SPATIAL_MAPS[id].submodule)
            except AttributeError:  # e.g. triplet attention built with no_spatial=True
                continue
            if source_module is None:
                continue
            found.append(name)
            self.ids[name] = id
            self._watch(name, module, source_module, SPATIAL_MAPS[id])
        return self

    def _watch(self, name: str, module: nn.Module, source: nn.Module, spec: MapSource) -> None:
        if spec.recompute is not None:

            def recompute(mod, args, output):
                with torch.no_grad():
                    self.maps[name] = spec.recompute(mod, args[0].detach()).float().cpu()

            self._handles.append(module.register_forward_hook(recompute))
            return
        outputs: list[torch.Tensor] = []

        def start(mod, args):
            outputs.clear()

        def record(mod, args, output):
            outputs.append(output.detach().float())

        def finish(mod, args, output):
            if outputs:
                self.maps[name] = spec.reduce(outputs).cpu()

        self._handles += [
            module.register_forward_pre_hook(start),
            source.register_forward_hook(record),
            module.register_forward_hook(finish),
        ]

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


def capture(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Run ``model(x)`` without gradients and return the spatial maps by module path."""
    with AttentionMaps(model) as recorder, torch.no_grad():
        model(x)
    return recorder.maps
