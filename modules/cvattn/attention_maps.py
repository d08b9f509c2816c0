"""Capture the spatial attention maps of modules during a forward pass, with hooks.

Nothing in the modules changes: forward hooks read the output of the submodule that computes each
module's spatial map (the table :data:`SPATIAL_MAPS`, checked against the module files) and reduce it
to one ``(N, H, W)`` map per module. Ids of the table that are not registered are skipped.

Example:
    >>> import torch, cvattn
    >>> from cvattn.attention_maps import capture
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), cvattn.create("cbam", channels=16))
    >>> maps = capture(net, torch.randn(2, 3, 20, 24))
    >>> {name: tuple(m.shape) for name, m in maps.items()}
    {'1': (2, 20, 24)}
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
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


@dataclass(frozen=True)
class MapSource:
    """Where a module's spatial map is computed: a submodule (path inside the module) and a reduction."""

    submodule: str
    reduce: Callable[[list[torch.Tensor]], torch.Tensor]
    meaning: str


SPATIAL_MAPS: dict[str, MapSource] = {
    "cbam": MapSource("spatial_gate.gate", _single, "M_s = sigmoid(BN(conv7x7([max_c; mean_c])))"),
    "cbam-spatial": MapSource("gate", _single, "M_s = sigmoid(BN(conv7x7([max_c; mean_c])))"),
    "bam": MapSource("gate", _channel_mean, "sigmoid(M_c + M_s), averaged over channels"),
    "scse": MapSource("sse.gate", _single, "sSE gate q = sigmoid(conv1x1(x))"),
    "scse-sse": MapSource("gate", _single, "sSE gate q = sigmoid(conv1x1(x))"),
    "triplet-attention": MapSource("hw", _single, "gate of the (H, W) branch"),
    "coordinate-attention": MapSource("gate", _outer_product, "g^h * g^w, averaged over channels"),
    "rga-spatial": MapSource("W", _sigmoid, "sigmoid of the relation-aware spatial logits"),
    "aff-mscam": MapSource("gate", _channel_mean, "MS-CAM weights, averaged over channels"),
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
