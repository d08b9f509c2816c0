"""RCAN's residual channel attention block against the official ``RCAN_TrainCode/code/model/rcan.py`` (``RCAB``),
built as RCAN builds it: the file's ``common.default_conv``, ``bias=True``, ``bn=False``. The file imports
``from model import common`` (a package of the training code); the patch imports the sibling ``common.py``
directly, which is unchanged."""

from torch import nn

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    conv = cls.__init__.__globals__["common"].default_conv
    return cls(conv, act=nn.ReLU(True), **kwargs)


RECIPE = Recipe(
    module="rcan-rcab",
    repo="https://github.com/yulunzhang/RCAN",
    file="RCAN_TrainCode/code/model/rcan.py",
    cls="RCAB",
    configs=(
        Config(
            "default",
            {"n_feat": 16, "kernel_size": 3, "reduction": 16},
            {"channels": 16},
            ((2, 16, 5, 7),),
        ),
        Config(
            "k5-reduction-4",
            {"n_feat": 8, "kernel_size": 5, "reduction": 4},
            {"channels": 8, "kernel_size": 5, "reduction": 4},
            ((2, 8, 6, 4),),
        ),
    ),
    rename=(
        (r"^body\.0\.", "conv1."),
        (r"^body\.2\.", "conv2."),
        (r"^body\.3\.conv_du\.0\.", "ca.fc1."),
        (r"^body\.3\.conv_du\.2\.", "ca.fc2."),
    ),
    patches=(("from model import common", "import common"),),
    build=_build,
)
