"""DDF-Up against the official ``ddf/ddf.py`` (``DDFUpPack``, typical upsampling), its CUDA operation replaced by
the authors' pure-Python reference (``py_forward`` in ``grad_check.py``) and its call of the operation fixed.

The official call ``ddf(_x, channel_filter, spatial_filter, k, dilation, 1, self.head, self.kernel_combine)``
passes ``head`` in the place of the combination (the CUDA operation's assertion rejects it); the second patch
drops that argument. "mul" and "add", scale 2 and 3, two heads with dilation.
"""

from scripts.parity import Config, Recipe

from .ddf import RECIPE as _DDF


def _config(name, shape, **ours):
    channels = ours.pop("channels")
    return Config(name, {"in_channels": channels, **ours}, {"channels": channels, **ours}, (shape,))


RECIPE = Recipe(
    module="ddf-up",
    repo=_DDF.repo,
    file=_DDF.file,
    cls="DDFUpPack",
    configs=(
        _config("mul-x2", (2, 8, 4, 5), channels=8),
        _config("add-x3", (1, 10, 3, 4), channels=10, scale_factor=3, kernel_combine="add"),
        _config("heads2-dilation2", (2, 8, 5, 4), channels=8, head=2, dilation=2, se_ratio=0.5),
    ),
    patches=(
        *_DDF.patches,
        (
            "self.kernel_size, self.dilation, 1, self.head, self.kernel_combine)",
            "self.kernel_size, self.dilation, 1, self.kernel_combine)",
        ),
    ),
    rename=(
        (r"^spatial_branch\.(\d+)\.0\.", r"branches.\1.spatial_dw."),
        (r"^spatial_branch\.(\d+)\.1\.0\.", r"branches.\1.spatial."),
        (r"^channel_branch\.(\d+)\.1\.", r"branches.\1.channel_fc1."),
        (r"^channel_branch\.(\d+)\.3\.", r"branches.\1.channel_fc2."),
        (r"^channel_branch\.(\d+)\.4\.std$", r"branches.\1.channel_scale"),
    ),
    note=_DDF.note
    + " The official call of the operation in DDFUpPack passes head where kernel_combine belongs; "
    "the last patch removes that argument.",
)
