"""ParNet's SSE against the official ``imagenet/timm/models/simplenet_impl/repvgg.py`` (``RepVGGBlock`` with
``se_block=True``, stride 1 and equal channels, as in every ParNet stream block): ``call`` runs its skip branch
as ``RepVGGBlock.forward`` does, ``id_out = rbr_identity(x)``, ``id_out * se(id_out)``; the block's 3x3 and 1x1
conv-BN branches are not run."""

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    return cls(
        kwargs["channels"], kwargs["channels"], 3, stride=1, padding=1, groups=kwargs["groups"], se_block=True
    )


def _call(block, inputs):
    (x,) = inputs
    id_out = block.rbr_identity(x)
    return id_out * block.se(id_out)


RECIPE = Recipe(
    module="parnet-sse",
    repo="https://github.com/imankgoyal/NonDeepNetworks",
    file="imagenet/timm/models/simplenet_impl/repvgg.py",
    cls="RepVGGBlock",
    configs=(
        Config("default", {"channels": 16, "groups": 1}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config(
            "groups-2-batch1", {"channels": 12, "groups": 2}, {"channels": 12, "groups": 2}, ((1, 12, 6, 9),)
        ),
    ),
    rename=((r"^rbr_identity\.", "bn."), (r"^se\.cvsig\.conv\.", "fc.")),
    drop=(r"^rbr_(dense|1x1)\.",),
    patches=(("from .utils import", "from utils import"),),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.layers": "",
        "timm.models.layers.drop": "def drop_path(*args, **kwargs):\n    raise NotImplementedError('stub')\n"
        "def drop_block_fast_2d(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
    },
    build=_build,
    call=_call,
    note=(
        "The block's rbr_dense and rbr_1x1 conv-BN branches are dropped (not part of the SSE); the patch turns "
        "the package-relative utils import into an absolute one (the file is imported on its own); timm's drop "
        "functions, imported by utils.py for other blocks, are stubbed."
    ),
)
