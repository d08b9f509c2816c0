"""PSANet's PSA against the authors' PyTorch port ``model/psanet.py`` (``PSA``) of hszhao/semseg, with its own
``lib/psa`` PSAMask operator (the C++ CPU kernel, compiled by ``torch.utils.cpp_extension`` on first import).
The official module returns ``cat(x, psa(x))``; ``call`` keeps the second half, which is what ours returns.
Sizes satisfy ``(H - 1) % shrink_factor == 0``, the only sizes the official code accepts."""

from scripts.parity import Config, Recipe

# The CPU PSAMask kernel reads and writes float32 only (``data<float>()``): the recorder runs in float64, so
# the official file is patched to call the kernel on a float32 copy of the over-complete map and cast back.
_FLOAT32_KERNEL = """import lib.psa.functional as _PF


class PF:
    @staticmethod
    def psa_mask(y, psa_type, mask_h, mask_w):
        return _PF.psa_mask(y.float(), psa_type, mask_h, mask_w).to(y.dtype)
"""


def _call(module, inputs):
    (x,) = inputs
    return module(x)[:, x.shape[1] :].clone()


_WHY = "the official PSAMask kernel is float32-only, so the predicted maps pass through float32 once"

RECIPE = Recipe(
    module="psanet",
    repo="https://github.com/hszhao/semseg",
    file="model/psanet.py",
    cls="PSA",
    configs=(
        Config(
            "bi-directional",
            {
                "in_channels": 8,
                "mid_channels": 4,
                "psa_type": 2,
                "shrink_factor": 2,
                "mask_h": 5,
                "mask_w": 13,
            },
            {"channels": 8, "mid_channels": 4, "psa_type": 2, "shrink_factor": 2, "mask_h": 5, "mask_w": 13},
            ((2, 8, 5, 13),),
            tolerance=1e-5,
            why=_WHY,
        ),
        Config(
            "bi-directional-local-window",
            {
                "in_channels": 12,
                "mid_channels": 4,
                "psa_type": 2,
                "shrink_factor": 2,
                "mask_h": 3,
                "mask_w": 5,
            },
            {"channels": 12, "mid_channels": 4, "psa_type": 2, "shrink_factor": 2, "mask_h": 3, "mask_w": 5},
            ((1, 12, 9, 11),),
            tolerance=1e-5,
            why=_WHY,
        ),
        Config(
            "collect-no-shrink-no-softmax",
            {
                "in_channels": 12,
                "mid_channels": 4,
                "psa_type": 0,
                "shrink_factor": 1,
                "mask_h": 7,
                "mask_w": 11,
                "normalization_factor": None,
                "psa_softmax": False,
            },
            {
                "channels": 12,
                "mid_channels": 4,
                "psa_type": 0,
                "shrink_factor": 1,
                "mask_h": 7,
                "mask_w": 11,
                "normalization_factor": None,
                "psa_softmax": False,
            },
            ((2, 12, 4, 6),),
            tolerance=1e-5,
            why=_WHY,
        ),
    ),
    rename=(
        (r"^reduce_p\.", "distribute.reduce."),
        (r"^attention_p\.", "distribute.attention."),
        (r"^reduce\.", "collect.reduce."),
        (r"^attention\.", "collect.attention."),
        (r"reduce\.0\.", "reduce.conv."),
        (r"reduce\.1\.", "reduce.bn."),
        (r"attention\.0\.", "attention.0.conv."),
        (r"attention\.1\.", "attention.0.bn."),
        (r"attention\.3\.", "attention.1."),
        (r"^proj\.0\.", "proj.conv."),
        (r"^proj\.1\.", "proj.bn."),
    ),
    patches=(("import lib.psa.functional as PF\n", _FLOAT32_KERNEL),),
    call=_call,
    note=(
        "Needs a C++ compiler: importing lib/psa builds the official CPU PSAMask extension. model/resnet.py, "
        "imported by the file for the PSANet network, is not used by PSA."
    ),
)
