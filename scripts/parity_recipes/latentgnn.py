"""LatentGNN against the official ``lib/latentgnn_v1.py`` (``LatentGNNV1``): the official kernels
``LatentGNN_Kernel_<i>`` are our ``kernels.<i>``, and its ``nn.Sequential(conv, norm[, relu])`` layers our
``ConvNormAct`` (``.0`` is ``.conv``, ``.1`` is ``.bn``). Asymmetric and symmetric modes, one and two kernels,
with and without the graph convolution; the recorder randomises ``gamma``, so the residual branch counts."""

from scripts.parity import Config, Recipe

RECIPE = Recipe(
    module="latentgnn",
    repo="https://github.com/latentgnn/LatentGNN-V1-PyTorch",
    file="lib/latentgnn_v1.py",
    cls="LatentGNNV1",
    configs=(
        Config(
            "asymmetric-two-kernels",
            {"in_channels": 16, "latent_dims": [6, 5], "channel_stride": 4, "num_kernels": 2},
            {"channels": 16, "latent_dims": [6, 5], "channel_stride": 4},
            ((2, 16, 3, 7),),
        ),
        Config(
            "symmetric-graph-conv",
            {
                "in_channels": 16,
                "latent_dims": [8],
                "channel_stride": 2,
                "num_kernels": 1,
                "mode": "symmetric",
                "graph_conv_flag": True,
            },
            {
                "channels": 16,
                "latent_dims": [8],
                "channel_stride": 2,
                "mode": "symmetric",
                "graph_conv": True,
            },
            ((2, 16, 4, 5),),
        ),
        Config(
            "no-residual",
            {
                "in_channels": 16,
                "latent_dims": [4],
                "channel_stride": 8,
                "num_kernels": 1,
                "without_residual": True,
            },
            {"channels": 16, "latent_dims": [4], "channel_stride": 8, "residual": False},
            ((1, 16, 5, 6),),
        ),
    ),
    rename=(
        (r"^LatentGNN_Kernel_(\d+)\.", r"kernels.\1."),
        (r"GraphConvWeight\.", "graph_conv."),
        (r"\.0\.(?=[a-z_]+$)", ".conv."),
        (r"\.1\.(?=[a-z_]+$)", ".bn."),
    ),
)
