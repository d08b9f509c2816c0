"""DNL against the official ``model/seg/ops/nonlocal_block.py`` (``NonLocal2d_bn``), built with the DNL settings of
``configs/seg/cityscapes/NLin_fcn_cityscapes_seg.conf`` (``whiten_type=['channel']``, ``temperature=0.05``,
``with_gc=True``), with the pooled keys of the class default, with the output convolution and BatchNorm, and as a
plain non-local block (no whitening, no unary term). The official block keeps state-free names, so no renaming."""

from scripts.parity import Config, Recipe


def _official(planes, **kw):
    args = {
        "inplanes": 16,
        "planes": planes,
        "downsample": False,
        "whiten_type": ["channel"],
        "temperature": 0.05,
    }
    args.update({"with_gc": True, "lr_mult": 1.0})
    args.update(kw)
    return args


RECIPE = Recipe(
    module="dnl",
    repo="https://github.com/yinmh17/DNL-Semantic-Segmentation",
    file="model/seg/ops/nonlocal_block.py",
    cls="NonLocal2d_bn",
    configs=(
        Config("dnl", _official(8), {"channels": 16}, ((2, 16, 3, 7),)),
        Config(
            "downsample-odd",
            _official(4, downsample=True),
            {"channels": 16, "reduction": 4, "downsample": True},
            ((1, 16, 5, 7),),
        ),
        Config(
            "use-out-bn",
            _official(8, use_out=True, out_bn=True, temperature=1.0),
            {"channels": 16, "use_out": True, "out_bn": True, "temperature": 1.0},
            ((2, 16, 3, 6),),
        ),
        Config(
            "plain-non-local",
            _official(8, whiten_type=[], with_gc=False),
            {"channels": 16, "whiten": False, "unary": False},
            ((1, 16, 6, 6),),
        ),
    ),
    note="lr_mult=1.0 is passed so that the official constructor does not print; it only sets an attribute.",
)
