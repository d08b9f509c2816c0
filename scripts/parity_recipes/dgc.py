"""Dynamic group convolution against the official ``layers.py`` (``DynamicMultiHeadConv`` with its ``HeadConv``s).

The official heads each hold a ``(C_out / heads)``-row conv weight that the forward concatenates into one grouped
convolution; ours stores that concatenation as one ``conv.weight``. The ``build`` adapter wraps the official module,
replaces the heads' conv weights by slices of one parameter (the official forward then concatenates exactly that
parameter back) and sets the official ``inactive_channels`` buffer to the final pruning value, which ours uses.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from scripts.parity import Config, Recipe


class _Official(nn.Module):
    """The official layer with its heads' conv weights held as one parameter ``conv_weight``."""

    def __init__(self, layer: nn.Module, out_channels: int, return_lasso: bool) -> None:
        super().__init__()
        heads = layer.heads
        weights = [getattr(layer, f"headconv_{i}").conv.weight for i in range(heads)]
        self.conv_weight = nn.Parameter(torch.cat([w.detach() for w in weights], 0))
        for i in range(heads):
            del getattr(layer, f"headconv_{i}").conv.weight
        self.layer, self.rows, self.return_lasso = layer, out_channels // heads, return_lasso

    def forward(self, x: Any) -> Any:
        for i in range(self.layer.heads):
            getattr(self.layer, f"headconv_{i}").conv.weight = self.conv_weight[
                i * self.rows : (i + 1) * self.rows
            ]
        out, lasso = self.layer(x)
        return [out, lasso] if self.return_lasso else out


def _build(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    kwargs = dict(kwargs)
    return_lasso = kwargs.pop("return_lasso")
    layer = cls(**kwargs)
    gate = kwargs.get("gate_factor", 0.25)
    layer.inactive_channels = round(kwargs["in_channels"] * (1 - gate))  # the final value, as ours
    return _Official(layer, kwargs["out_channels"], return_lasso)


RECIPE = Recipe(
    module="dgc",
    repo="https://github.com/zhuogege1943/dgc",
    file="layers.py",
    cls="DynamicMultiHeadConv",
    configs=(
        Config(
            "default-with-lasso",
            {"in_channels": 16, "out_channels": 16, "kernel_size": 3, "padding": 1, "return_lasso": True},
            {"in_channels": 16, "out_channels": 16, "kernel_size": 3, "padding": 1, "return_lasso": True},
            ((2, 16, 5, 7),),
        ),
        Config(
            "heads2-gate0.5-stride2",
            {
                "in_channels": 32,
                "out_channels": 8,
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "heads": 2,
                "gate_factor": 0.5,
                "return_lasso": False,
            },
            {
                "in_channels": 32,
                "out_channels": 8,
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "heads": 2,
                "gate_factor": 0.5,
            },
            ((2, 32, 4, 5),),
        ),
    ),
    rename=(
        (r"^conv_weight$", "conv.weight"),
        (r"^layer\.norm\.", "norm."),
        (r"^layer\.headconv_(\d+)\.fc", r"saliency.\1.fc"),
    ),
    drop=(r"_inactive_channels$",),
    build=_build,
    note="The official buffer _inactive_channels (the pruning schedule's state) is dropped: ours keeps it as an "
    "attribute at its final value, to which the adapter sets the official buffer. The official layer returns "
    "[out, lasso]; the first configuration compares both (ours with return_lasso=True), the second only out.",
)
