"""EfficientViT (MSRA)'s cascaded group attention against the official ``classification/model/efficientvit.py``
(``LocalWindowAttention``, which wraps ``CascadedGroupAttention`` in windows). The official forward takes its
size from the ``resolution`` given at construction (and asserts the input has it); the patch takes it from the
input instead, so that non-square maps can be compared. timm (imported for the network's other layers) is
stubbed."""

from scripts.parity import Config, Recipe

_TIMM_VIT = """
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""

_TIMM_LAYERS = """
class SqueezeExcite:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('stub')
"""

RECIPE = Recipe(
    module="efficientvit-msra",
    repo="https://github.com/microsoft/Cream",
    file="EfficientViT/classification/model/efficientvit.py",
    cls="LocalWindowAttention",
    configs=(
        Config(
            "padded-non-square",
            {
                "dim": 16,
                "key_dim": 4,
                "num_heads": 2,
                "attn_ratio": 2,
                "resolution": 7,
                "window_resolution": 4,
                "kernels": [5, 3],
            },
            {"channels": 16, "key_dim": 4, "num_heads": 2, "window_size": 4, "kernels": (5, 3)},
            ((1, 16, 7, 5),),
        ),
        Config(
            "single-window",
            {
                "dim": 16,
                "key_dim": 4,
                "num_heads": 2,
                "attn_ratio": 2,
                "resolution": 6,
                "window_resolution": 7,
                "kernels": [3, 3],
            },
            {"channels": 16, "key_dim": 4, "num_heads": 2, "window_size": 6, "kernels": (3, 3)},
            ((1, 16, 6, 6),),
        ),
        Config(
            "four-heads",
            {
                "dim": 16,
                "key_dim": 2,
                "num_heads": 4,
                "attn_ratio": 2,
                "resolution": 6,
                "window_resolution": 3,
                "kernels": [5, 5, 3, 3],
            },
            {"channels": 16, "key_dim": 2, "num_heads": 4, "window_size": 3, "kernels": (5, 5, 3, 3)},
            ((1, 16, 6, 9),),
        ),
    ),
    rename=((r"^attn\.", ""), (r"\.c\.", ".conv.")),
    drop=(r"attention_bias_idxs$",),
    patches=(("H = W = self.resolution", "H, W = x.shape[2], x.shape[3]"),),
    stubs={
        "timm": "",
        "timm.models": "",
        "timm.models.vision_transformer": _TIMM_VIT,
        "timm.models.layers": _TIMM_LAYERS,
    },
    note="attention_bias_idxs (the offset index buffer) is dropped: ours computes the same index as a "
    "non-persistent buffer. The window is min(window_resolution, resolution) in the official class, so the "
    "single-window configuration uses window_size=6 on our side.",
)
