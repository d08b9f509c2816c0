"""TSM against the official ``ops/temporal_shift.py`` (``TemporalShift``, out-of-place shift, identity ``net``).

The official module takes frames ``(N*T, C, H, W)`` and ``n_segment`` frames per clip; ``call`` turns the recorded
clip ``(N, C, T, H, W)`` into frames with :func:`cvattn.clips.to_frames` and the output back with ``from_frames``.
"""

from scripts.parity import Config, Recipe


def _build(cls, kwargs):
    from torch import nn

    return cls(nn.Sequential(), **kwargs)


def _call(module, inputs):
    from cvattn.clips import from_frames, to_frames

    (x,) = inputs
    return from_frames(module(to_frames(x)), x.shape[2])


RECIPE = Recipe(
    module="tsm",
    repo="https://github.com/mit-han-lab/temporal-shift-module",
    file="ops/temporal_shift.py",
    cls="TemporalShift",
    configs=(
        Config("default", {"n_segment": 4, "n_div": 8}, {"channels": 16}, ((2, 16, 4, 5, 7),)),
        Config(
            "div4-uneven-channels-8-frames",
            {"n_segment": 8, "n_div": 4},
            {"channels": 14, "fold_div": 4},
            ((1, 14, 8, 3, 4),),
        ),
        Config("two-frames", {"n_segment": 2, "n_div": 8}, {"channels": 24}, ((3, 24, 2, 4, 4),)),
    ),
    build=_build,
    call=_call,
    note="The official class is built around an empty nn.Sequential (the shift alone); it prints its settings.",
)
