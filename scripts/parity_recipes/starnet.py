"""The StarNet block against the official ``imagenet/starnet.py`` (``Block``): the class default (``mlp_ratio``
3) and StarNet's ``mlp_ratio`` 4. timm (drop path, init, the model registry) is stubbed: the block uses a
drop path only when ``drop_path > 0``."""

from scripts.parity import Config, Recipe

TIMM_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""

RECIPE = Recipe(
    module="starnet",
    repo="https://github.com/ma-xu/Rewrite-the-Stars",
    file="imagenet/starnet.py",
    cls="Block",
    configs=(
        Config("default", {"dim": 8}, {"channels": 8}, ((1, 8, 9, 11),)),
        Config(
            "mlp-ratio-4", {"dim": 12, "mlp_ratio": 4}, {"channels": 12, "mlp_ratio": 4}, ((1, 12, 6, 5),)
        ),
    ),
    rename=((r"^f1\.conv\.", "f1."), (r"^f2\.conv\.", "f2."), (r"^dwconv2\.conv\.", "dwconv2.")),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": TIMM_LAYERS,
        "timm.models.registry": "def register_model(fn):\n    return fn\n",
    },
    note="timm is stubbed (drop path, init and the model registry, none used by the block at drop_path=0).",
)
