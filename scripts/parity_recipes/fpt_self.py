"""FPT self-transformer against the official ``lib/modeling/self_trans.py`` (``SelfTrans`` with its
``MixtureOfSoftMax``): shared query/key conv, pooled keys and values, mixture of softmaxes, BN, residual.

The official attention dropout is fixed at 0.1 inside ``MixtureOfSoftMax``; the ``default`` configuration
keeps it and is compared in eval mode only, the ``no-dropout`` configurations set its ``p`` to 0 (ours:
``attn_drop=0``) so that the training step (BatchNorm batch statistics, running statistics) is compared too.
"""

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    kwargs = dict(kwargs)
    no_dropout = kwargs.pop("no_attn_dropout", False)
    module = cls(**kwargs)
    if no_dropout:
        module.attention.dropout.p = 0.0
    return module


RECIPE = Recipe(
    module="fpt-self",
    repo="https://github.com/ZHANGDONG-NJUST/FPT",
    file="lib/modeling/self_trans.py",
    cls="SelfTrans",
    configs=(
        Config(
            "default",
            {"n_head": 1, "n_mix": 2, "d_model": 16, "d_k": 16, "d_v": 16},
            {"channels": 16},
            ((2, 16, 4, 6),),
            modes=("eval",),
            why="the attention dropout (0.1) makes the training step random",
        ),
        Config(
            "no-dropout",
            {"n_head": 1, "n_mix": 2, "d_model": 16, "d_k": 16, "d_v": 16, "no_attn_dropout": True},
            {"channels": 16, "attn_drop": 0.0},
            ((2, 16, 4, 6),),
        ),
        Config(
            "heads-2-mix-4",
            {"n_head": 2, "n_mix": 4, "d_model": 16, "d_k": 8, "d_v": 12, "no_attn_dropout": True},
            {
                "channels": 16,
                "num_heads": 2,
                "num_mixtures": 4,
                "key_channels": 8,
                "value_channels": 12,
                "attn_drop": 0.0,
            },
            ((2, 16, 6, 4),),
        ),
    ),
    rename=(
        (r"^conv_qs\.", "conv_qk."),
        (r"^conv_vs\.", "conv_v."),
        (r"^attention\.weight$", "mixture"),
        (r"^conv\.", "conv_out."),
        (r"^norm_layer\.", "norm."),
    ),
    drop=(r"^conv_ks\.",),
    build=_build,
    note="conv_ks is the same module as conv_qs in the official class (its state-dict entries are duplicates) and is dropped.",
)
