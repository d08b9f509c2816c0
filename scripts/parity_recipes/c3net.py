"""C3 block against the official ``lib/layers/cross_neuron_distributed.py`` (``_CrossNeuronBlock``): at the input's
own size, and working at half the input's size (nearest-neighbour resize in and out)."""

from scripts.parity import Config, Recipe


def _conv1d_as_linear(name, value):
    """The official encoder/decoder are ``nn.Conv1d(A, A/r, 1)`` over the positions; ours ``nn.Linear``."""
    if name.endswith(".weight") and value.dim() == 3:
        return value[:, :, 0]
    return value


RECIPE = Recipe(
    module="c3net",
    repo="https://github.com/jwyang/C3Net.pytorch",
    file="lib/layers/cross_neuron_distributed.py",
    cls="_CrossNeuronBlock",
    configs=(
        Config(
            "non-square",
            {"in_channels": 16, "in_height": 5, "in_width": 7, "reduction": 8},
            {"channels": 16, "spatial_size": (5, 7), "reduction": 8},
            ((2, 16, 5, 7),),
        ),
        Config(
            "resized",
            {
                "in_channels": 8,
                "in_height": 8,
                "in_width": 10,
                "spatial_height": 4,
                "spatial_width": 5,
                "reduction": 4,
            },
            {"channels": 8, "spatial_size": (4, 5), "reduction": 4},
            ((2, 8, 8, 10),),
        ),
    ),
    rename=((r"^fc_in\.", "encoder."), (r"^fc_out\.", "decoder.")),
    drop=(r"^ln\.", r"^downsample\.", r"^upsample\."),
    convert=_conv1d_as_linear,
    note=(
        "Dropped: the official LayerNorm `ln` and the depthwise `downsample`/`upsample` layers, which the "
        "official forward never uses (its resized path calls F.interpolate instead)."
    ),
)
