"""FcaNet against the official ``model/layer.py`` (``MultiSpectralAttentionLayer``, 'top' frequencies).

The official fixed DCT filters are a persistent buffer (``dct_layer.weight``); ours are rebuilt in the
constructor and not saved, so that key is dropped and the filters are compared through the outputs.
"""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="fcanet",
    repo="https://github.com/cfzd/FcaNet",
    file="model/layer.py",
    cls="MultiSpectralAttentionLayer",
    configs=(
        Config(
            "top16-7x7",
            {"channel": 16, "dct_h": 7, "dct_w": 7},
            {"channels": 16},
            ((1, 16, 7, 7),),
        ),
        Config(
            "top16-pooled",
            {"channel": 16, "dct_h": 7, "dct_w": 7},
            {"channels": 16},
            ((1, 16, 7, 9),),
        ),
        Config(
            "top8-reduction-8",
            {"channel": 32, "dct_h": 7, "dct_w": 7, "reduction": 8, "freq_sel_method": "top8"},
            {"channels": 32, "reduction": 8, "num_freq": 8},
            ((1, 32, 5, 6),),
        ),
    ),
    drop=(r"^dct_layer\.weight$",),
    note="dct_layer.weight (the fixed DCT filters) is dropped: ours are a non-persistent buffer built the same way.",
)
