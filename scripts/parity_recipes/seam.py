"""SEAM's pixel correlation module against the official ``network/resnet38_SEAM.py``: the official PCM is the
method ``Net.PCM(cam, f)`` of the ResNet-38 network, whose only weight is the 1x1 convolution ``f9``. ``build``
runs that method, unchanged, on a small module holding just ``f9`` (building the whole network would allocate
ResNet-38 for nothing); ``call`` passes ``(cam, features)`` in the official order. The SEAM widths (195 -> 192
channels, 21 classes), a CAM at a lower resolution than the features (the bilinear resize), and a narrow
embedding, on non-square maps."""

from torch import nn

from scripts.parity import Config, Recipe


class _OfficialPCM(nn.Module):
    """Holds ``f9`` and runs the official ``Net.PCM`` with itself as ``self``."""

    def __init__(self, net_cls, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.pcm = net_cls.PCM
        self.f9 = nn.Conv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, cam, f):
        return self.pcm(self, cam, f)


def _build(cls, kwargs):
    return _OfficialPCM(cls, kwargs["in_channels"], kwargs["out_channels"])


def _call(module, inputs):
    x, cam = inputs
    return module(cam, x)


RECIPE = Recipe(
    module="seam",
    repo="https://github.com/YudeWang/SEAM",
    file="network/resnet38_SEAM.py",
    cls="Net",
    configs=(
        Config(
            "seam-widths",
            {"in_channels": 195, "out_channels": 192},
            {"channels": 195, "embed_channels": 192},
            ((1, 195, 4, 5), (1, 21, 4, 5)),
        ),
        Config(
            "cam-upsampled",
            {"in_channels": 16, "out_channels": 8},
            {"channels": 16, "embed_channels": 8},
            ((1, 16, 9, 7), (1, 5, 4, 3)),
        ),
    ),
    rename=((r"^f9\.", "theta."),),
    build=_build,
    call=_call,
    note="Net.PCM is run as it is on a module holding only f9 (Net's other layers are not built).",
)
