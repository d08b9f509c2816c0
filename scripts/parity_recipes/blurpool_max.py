"""MaxBlurPool against the official layers as the official README and ``antialiased_cnns/resnet.py`` combine
them: ``nn.MaxPool2d(kernel_size=2, stride=1)`` followed by the official ``BlurPool``."""

from __future__ import annotations

from typing import Any

from torch import nn

from scripts.parity import Config, Recipe


def _build(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    blur = {k: v for k, v in kwargs.items() if k != "kernel_size"}
    return nn.Sequential(nn.MaxPool2d(kernel_size=kwargs["kernel_size"], stride=1), cls(**blur))


RECIPE = Recipe(
    module="blurpool-max",
    repo="https://github.com/adobe/antialiased-cnns",
    file="antialiased_cnns/blurpool.py",
    cls="BlurPool",
    configs=(
        Config("default", {"channels": 8, "kernel_size": 2}, {"channels": 8}, ((2, 8, 10, 13),)),
        Config(
            "k3-filter3",
            {"channels": 4, "kernel_size": 3, "filt_size": 3},
            {"channels": 4, "kernel_size": 3, "filter_size": 3},
            ((2, 4, 9, 12),),
        ),
    ),
    drop=(r"^1\.filt$",),
    build=_build,
    note="The official MaxBlurPool is not a class: the README and resnet.py build nn.MaxPool2d(2, stride=1) + "
    "BlurPool, as the adapter does. The fixed blur kernel `filt` is dropped (ours is a non-persistent constant).",
)
