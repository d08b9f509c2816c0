"""CenterMask's eSE against the official ``maskrcnn_benchmark/modeling/backbone/vovnet.py`` (``eSEModule``). The file
imports maskrcnn_benchmark helpers for the rest of VoVNet (a registry, frozen batch norm, deformable conv, group
norm), whose package needs compiled C++/CUDA extensions; they are stubbed, as eSE uses none of them."""

from scripts.parity import Config, Recipe

_LAYERS = """
class FrozenBatchNorm2d:
    pass
class DFConv2d:
    pass
"""

RECIPE = Recipe(
    module="centermask-ese",
    repo="https://github.com/youngwanLEE/CenterMask",
    file="maskrcnn_benchmark/modeling/backbone/vovnet.py",
    cls="eSEModule",
    configs=(
        Config("default", {"channel": 16}, {"channels": 16}, ((2, 16, 5, 7),)),
        Config("square", {"channel": 24}, {"channels": 24}, ((3, 24, 4, 4),)),
    ),
    stubs={
        "maskrcnn_benchmark": "",
        "maskrcnn_benchmark.utils": "",
        "maskrcnn_benchmark.utils.registry": "class Registry(dict):\n    pass\n",
        "maskrcnn_benchmark.layers": _LAYERS,
        "maskrcnn_benchmark.modeling": "",
        "maskrcnn_benchmark.modeling.make_layers": "def group_norm(*args, **kwargs):\n    raise NotImplementedError\n",
    },
    note="maskrcnn_benchmark (imported by the file for the rest of VoVNet, not used by eSEModule) is stubbed.",
)
