"""TAM against the official ``ops/temporal_module.py`` (``TAM``): local importance map, global adaptive kernel.

The official module takes frames ``(N*T, C, H, W)`` and ``n_segment`` frames per clip; ``call`` passes the recorded
clip ``(N, C, T, H, W)`` as frames and turns the output back into a clip. The file imports torchvision (for the
ResNet wrapper, unused by ``TAM``); a stub stands in for it.
"""

from scripts.parity import Config, Recipe


def _call(module, inputs):
    from cvattn.clips import from_frames, to_frames

    (x,) = inputs
    return from_frames(module(to_frames(x)), x.shape[2])


RECIPE = Recipe(
    module="tam",
    repo="https://github.com/liu-zhy/temporal-adaptive-module",
    file="ops/temporal_module.py",
    cls="TAM",
    configs=(
        Config(
            "default-8-frames", {"in_channels": 16, "n_segment": 8}, {"channels": 16}, ((2, 16, 8, 3, 4),)
        ),
        Config(
            "k5-4-frames",
            {"in_channels": 8, "n_segment": 4, "kernel_size": 5, "padding": 2},
            {"channels": 8, "num_frames": 4, "kernel_size": 5, "padding": 2},
            ((3, 8, 4, 3, 3),),
        ),
        Config(
            "6-frames-batch-1",
            {"in_channels": 12, "n_segment": 6},
            {"channels": 12, "num_frames": 6},
            ((1, 12, 6, 2, 5),),
        ),
    ),
    rename=(
        (r"^G\.0\.", "global_fc1."),
        (r"^G\.1\.", "global_bn."),
        (r"^G\.3\.", "global_fc2."),
        (r"^L\.0\.", "local_conv1."),
        (r"^L\.1\.", "local_bn."),
        (r"^L\.3\.", "local_conv2."),
    ),
    stubs={"torchvision": ""},
    call=_call,
)
