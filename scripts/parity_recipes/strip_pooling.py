"""Strip pooling module against the official ``models/resnet.py`` (``SPBlock``): the two strip poolings, 3x1 /
1x3 conv-BN, ReLU of their broadcast sum, 1x1 conv, sigmoid.

``SPBlock`` returns the gate and SPNet's ``Bottleneck`` multiplies it into its features
(``out = out * self.spm(out)``); ours returns the gated features, so ``call`` applies that product.
"""

from torch import nn

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    return cls(**kwargs, norm_layer=nn.BatchNorm2d)


RECIPE = Recipe(
    module="strip-pooling",
    repo="https://github.com/Andrew-Qibin/SPNet",
    file="models/resnet.py",
    cls="SPBlock",
    configs=(
        Config("default", {"inplanes": 16, "outplanes": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("square", {"inplanes": 8, "outplanes": 8}, {"channels": 8}, ((3, 8, 6, 6),)),
    ),
    rename=(
        (r"^conv1\.", "conv_h."),
        (r"^bn1\.", "bn_h."),
        (r"^conv2\.", "conv_w."),
        (r"^bn2\.", "bn_w."),
        (r"^conv3\.", "fuse."),
    ),
    build=_build,
    call=lambda module, inputs: inputs[0] * module(inputs[0]),
    note="SPBlock returns the gate; the product with the input is the one SPNet's Bottleneck applies.",
)
