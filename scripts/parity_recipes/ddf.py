"""DDF against the official ``ddf/ddf.py`` (``DDFPack``), its CUDA operation replaced by the authors' own
pure-Python reference of it (``py_forward`` in ``grad_check.py``, which supports stride 1 only).

"mul" and "add" combination, two heads with dilation 2 and a 5x5 filter, and another channel-branch ratio.
"""

from scripts.parity import Config, Recipe

_LOAD_REFERENCE = '''
def _authors_reference():
    """py_forward from the repository's grad_check.py (the file's CUDA checks after it are not run)."""
    import os

    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "grad_check.py")
    with open(path) as f:
        source = f.read()
    source = source[: source.index("\\nfeat = ")]
    for cuda_only in ("from ipdb import set_trace", "from ddf import ddf", ", device='cuda:0'"):
        assert cuda_only in source, cuda_only
        source = source.replace(cuda_only, "")
    namespace = {}
    exec(compile(source, path, "exec"), namespace)
    return namespace["py_forward"]


ddf = _authors_reference()
'''


def _config(name, shape, **ours):
    channels = ours.pop("channels")
    return Config(name, {"in_channels": channels, **ours}, {"channels": channels, **ours}, (shape,))


RECIPE = Recipe(
    module="ddf",
    repo="https://github.com/theFoxofSky/ddfnet",
    file="ddf/ddf.py",
    cls="DDFPack",
    configs=(
        _config("mul", (2, 10, 5, 7), channels=10),
        _config("add", (2, 10, 6, 5), channels=10, kernel_combine="add"),
        _config("heads2-dilation2-k5", (2, 12, 7, 6), channels=12, kernel_size=5, dilation=2, head=2),
        _config("se0.5-add-heads3", (1, 12, 4, 5), channels=12, se_ratio=0.5, head=3, kernel_combine="add"),
    ),
    patches=(
        (
            "from . import ddf_mul_ext, ddf_mul_faster_ext, ddf_add_ext, ddf_add_faster_ext",
            "ddf_mul_ext = ddf_mul_faster_ext = ddf_add_ext = ddf_add_faster_ext = None  # CUDA, not built",
        ),
        ("ddf = DDFFunction.apply", _LOAD_REFERENCE),
    ),
    rename=(
        (r"^spatial_branch\.0\.", "spatial."),
        (r"^channel_branch\.1\.", "channel_fc1."),
        (r"^channel_branch\.3\.", "channel_fc2."),
        (r"^channel_branch\.4\.std$", "channel_scale"),
    ),
    note="The DDF operation is a CUDA kernel (ddf_mul_ext and friends, not built here); the patch replaces it by "
    "the authors' own pure-Python loop over batch, channel, position and tap (py_forward in grad_check.py, read "
    "from the checkout with its ipdb and CUDA-device lines removed), which supports stride 1 only: strides are "
    "checked by the module's tests against an independent reference.",
)
