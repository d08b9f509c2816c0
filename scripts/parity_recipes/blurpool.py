"""BlurPool against the official ``antialiased_cnns/blurpool.py`` (``BlurPool``): binomial filters of sizes 4
(default), 3, 5 and 1, strides 2 and 3, the three padding types and ``pad_off``."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="blurpool",
    repo="https://github.com/adobe/antialiased-cnns",
    file="antialiased_cnns/blurpool.py",
    cls="BlurPool",
    configs=(
        Config("default", {"channels": 8}, {"channels": 8}, ((2, 8, 10, 13),)),
        Config(
            "k3-zero",
            {"channels": 4, "filt_size": 3, "pad_type": "zero"},
            {"channels": 4, "filter_size": 3, "pad_type": "zero"},
            ((2, 4, 9, 8),),
        ),
        Config(
            "k5-stride3-replicate-padoff1",
            {"channels": 3, "filt_size": 5, "stride": 3, "pad_type": "replicate", "pad_off": 1},
            {"channels": 3, "filter_size": 5, "stride": 3, "pad_type": "replicate", "pad_off": 1},
            ((1, 3, 11, 7),),
        ),
        Config(
            "k1-padoff1",
            {"channels": 3, "filt_size": 1, "pad_type": "zero", "pad_off": 1},
            {"channels": 3, "filter_size": 1, "pad_type": "zero", "pad_off": 1},
            ((2, 3, 7, 6),),
        ),
    ),
    drop=(r"^filt$",),
    note="The official fixed blur kernel `filt` is a persistent buffer; ours is a non-persistent constant built "
    "from the same binomial coefficients, so the key is dropped and the outputs compare the kernels.",
)
