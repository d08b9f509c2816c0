"""KernelWarehouse against the official ``modules/kernel_warehouse.py``: a ``KWConv2d`` reserved from a
``Warehouse_Manager`` that serves it alone (``reserve``, ``store``, ``allocate``, as the official networks do).

KW (1x) 3x3; KW (4x) with a bias, stride and a temperature of 0.5 (the blend with the start assignment); the
KW (1/2x) ratios (half the cells, half-width cells) with groups; whole-kernel cells (no spatial partition)
with dilation; a 1x1 kernel.
"""

from __future__ import annotations

import sys
from typing import Any

from torch import nn

from scripts.parity import Config, Recipe

from ._common import as_conv1x1

_MANAGER_ARGS = (
    "reduction",
    "cell_num_ratio",
    "cell_inplane_ratio",
    "cell_outplane_ratio",
    "spatial_partition",
)


class _Official(nn.Module):
    """One official layer with the manager that holds its warehouse (the layer keeps it out of its own state)."""

    def __init__(self, manager: nn.Module, conv: nn.Module) -> None:
        super().__init__()
        self.manager, self.conv = manager, conv

    def forward(self, x: Any) -> Any:
        return self.conv(x)


def _build(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    kwargs = dict(kwargs)
    temperature = kwargs.pop("temperature", 0.0)
    manager_kwargs = {k: kwargs.pop(k) for k in _MANAGER_ARGS if k in kwargs}
    manager = sys.modules[cls.__module__].Warehouse_Manager(**manager_kwargs)
    conv = manager.reserve(**kwargs, warehouse_name="stage1_layer1_conv1", layer_type="conv2d")
    assert isinstance(conv, cls)
    manager.store()
    official = _Official(manager, conv)
    manager.allocate(official)
    conv.attention.update_temperature(temperature)
    return official


def _config(name: str, shape: tuple[int, ...], **ours: Any) -> Config:
    official = {"in_planes": ours["in_channels"], "out_planes": ours["out_channels"]}
    official.update({k: v for k, v in ours.items() if k not in ("in_channels", "out_channels")})
    official.setdefault("bias", False)
    if "reduction" in official:
        official["reduction"] = 1 / official["reduction"]
    ours.setdefault("padding", 0)  # the registry default is 1
    return Config(name, official, ours, (shape,))


RECIPE = Recipe(
    module="kernelwarehouse",
    repo="https://github.com/OSVAI/KernelWarehouse",
    file="modules/kernel_warehouse.py",
    cls="KWConv2d",
    configs=(
        _config("kw1x", (2, 8, 5, 7), in_channels=8, out_channels=8, kernel_size=3, padding=1),
        _config(
            "kw4x-bias-stride2-temperature",
            (2, 8, 7, 6),
            in_channels=8,
            out_channels=8,
            kernel_size=3,
            stride=2,
            padding=1,
            bias=True,
            cell_num_ratio=4,
            temperature=0.5,
        ),
        _config(
            "kw1d2x-groups",
            (2, 8, 6, 5),
            in_channels=8,
            out_channels=8,
            kernel_size=3,
            padding=1,
            groups=2,
            cell_num_ratio=0.5,
            cell_inplane_ratio=0.5,
            cell_outplane_ratio=0.5,
            temperature=0.25,  # exact in float32, the dtype of the official temperature bias
        ),
        _config(
            "whole-kernel-cells-dilation",
            (2, 8, 8, 7),
            in_channels=8,
            out_channels=12,
            kernel_size=3,
            padding=2,
            dilation=2,
            cell_num_ratio=2,
            cell_outplane_ratio=0.25,
            spatial_partition=False,
            reduction=4,
        ),
        _config("1x1", (2, 12, 4, 5), in_channels=12, out_channels=6, kernel_size=1, cell_inplane_ratio=0.5),
    ),
    rename=(
        (r"^manager\.weights\.0$", "warehouse"),
        (r"^conv\.attention\.norm1\.", "attention.norm."),
        (r"^conv\.", ""),
    ),
    convert=as_conv1x1,
    build=_build,
    note="The official layer keeps the warehouse out of its own state (the manager holds it); the adapter "
    "registers the manager beside the layer so that its single warehouse is compared as ours. The official "
    "temperature bias is a plain tensor attribute, ours a non-persistent buffer: neither is in the state.",
)
