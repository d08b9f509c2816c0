"""Dynamic snake convolution against the official ``S3_DSConv_pro.py`` (``DSConv_pro``, the authors' optimised
version): both morphs, the paper's 9 taps and a 5-tap kernel with a larger ``extend_scope``, on non-square maps.

The official class builds both the ``K x 1`` and the ``1 x K`` conv and uses the one of its ``morph``; ``build``
deletes the unused one (it takes no part in the forward), so the two state dicts correspond. Recording needs
``einops`` (which the official file uses for its coordinate maps) importable, e.g. from a ``pip install --target``
folder on ``PYTHONPATH``; the official module is built with ``device="cpu"``.

The official coordinate maps start from float32 grids (``arange(..., dtype=torch.float32)``, ``linspace``,
``zeros``), so in float64 the coordinate across the kernel, which gets no offset, stays float32 and the two
differ by about 1e-6. ``patches`` builds those grids in the offsets' dtype instead (the values are small
integers, exact in both); in float32, the official code's working precision, nothing changes.
"""

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    module = cls(device="cpu", **kwargs)
    del module._modules["dsc_conv_y" if kwargs.get("morph", 0) == 0 else "dsc_conv_x"]
    return module


def _config(name, shape, **kw):
    ours = {"in_channels": shape[1], "out_channels": kw.pop("out_channels"), **kw}
    return Config(name, dict(ours), ours, (shape,))


RECIPE = Recipe(
    module="dsconv",
    repo="https://github.com/YaoleiQi/DSCNet",
    file="DSCNet_2D_opensource/Code/DRIVE/S3_DSConv_pro.py",
    cls="DSConv_pro",
    configs=(
        _config("morph-x-k9", (1, 8, 9, 11), out_channels=16, kernel_size=9, morph=0),
        _config("morph-y-k9", (1, 8, 11, 9), out_channels=16, kernel_size=9, morph=1),
        _config("morph-x-k5-scope-2", (1, 6, 7, 8), out_channels=8, kernel_size=5, extend_scope=2.0, morph=0),
        _config("morph-y-k5-scope-2", (1, 6, 8, 7), out_channels=8, kernel_size=5, extend_scope=2.0, morph=1),
    ),
    rename=((r"^dsc_conv_[xy]\.", "dsc_conv."),),
    patches=(
        (
            "y_center_ = torch.arange(0, width, dtype=torch.float32, device=device)",
            "y_center_ = torch.arange(0, width, dtype=offset.dtype, device=device)",
        ),
        (
            "x_center_ = torch.arange(0, height, dtype=torch.float32, device=device)",
            "x_center_ = torch.arange(0, height, dtype=offset.dtype, device=device)",
        ),
        (
            "y_spread_ = torch.zeros([kernel_size], device=device)\n"
            "        x_spread_ = torch.linspace(-center, center, kernel_size, device=device)",
            "y_spread_ = torch.zeros([kernel_size], dtype=offset.dtype, device=device)\n"
            "        x_spread_ = torch.linspace(-center, center, kernel_size, dtype=offset.dtype, device=device)",
        ),
        (
            "y_spread_ = torch.linspace(-center, center, kernel_size, device=device)\n"
            "        x_spread_ = torch.zeros([kernel_size], device=device)",
            "y_spread_ = torch.linspace(-center, center, kernel_size, dtype=offset.dtype, device=device)\n"
            "        x_spread_ = torch.zeros([kernel_size], dtype=offset.dtype, device=device)",
        ),
    ),
    build=_build,
    note="The official module's unused conv of the other morph is deleted before comparing, and its coordinate "
    "grids are built in the input's dtype rather than float32 (see the recipe's docstring).",
)
