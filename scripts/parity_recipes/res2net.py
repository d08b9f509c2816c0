"""Res2Net's Bottle2neck against the official ``res2net.py`` (``Bottle2neck``), built as ``Res2Net._make_layer``
builds it: a plain block (base width 26, scale 4), the first block of a stage with a projection shortcut (stride 1 and 2, the
``stage`` form with the average-pooled last group), scale 8 and scale 1 (small widths, to keep the fixture small).
"""

import torch.nn as nn

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    kwargs = dict(kwargs)
    inplanes, planes, stride = kwargs.pop("inplanes"), kwargs.pop("planes"), kwargs.pop("stride", 1)
    downsample = None
    if stride != 1 or inplanes != planes * cls.expansion:  # as Res2Net._make_layer
        downsample = nn.Sequential(
            nn.Conv2d(inplanes, planes * cls.expansion, kernel_size=1, stride=stride, bias=False),
            nn.BatchNorm2d(planes * cls.expansion),
        )
    stype = "stage" if downsample is not None else "normal"
    return cls(inplanes, planes, stride, downsample=downsample, stype=stype, **kwargs)


def _config(name, cin, cout, shape, stride=1, base_width=26, scale=4):
    return Config(
        name,
        {"inplanes": cin, "planes": cout // 4, "stride": stride, "baseWidth": base_width, "scale": scale},
        {
            "in_channels": cin,
            "out_channels": cout,
            "stride": stride,
            "base_width": base_width,
            "scale": scale,
        },
        (shape,),
    )


RECIPE = Recipe(
    module="res2net",
    repo="https://github.com/Res2Net/Res2Net-PretrainedModels",
    file="res2net.py",
    cls="Bottle2neck",
    configs=(
        _config("default-26w-4s", 20, 20, (1, 20, 5, 6)),
        _config("stage-projection", 8, 20, (1, 8, 5, 7)),
        _config("stage-stride-2", 20, 32, (1, 20, 7, 5), stride=2),
        _config("8s", 32, 32, (1, 32, 4, 5), base_width=32, scale=8),
        _config("scale-1", 16, 32, (1, 16, 5, 6), stride=2, base_width=64, scale=1),
    ),
    build=_build,
    note="The official block takes its shortcut as an argument; the recipe builds it as Res2Net._make_layer does "
    "(1x1 conv with the stride, BN) and passes stype='stage' exactly when it does.",
)
