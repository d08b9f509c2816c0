"""EncNet's context encoding module against the official ``encoding/models/sseg/encnet.py`` (``EncModule`` with
``se_loss=False``), whose ``Encoding`` layer (``encoding/nn/encoding.py``) runs the official CPU kernels
``scaled_l2`` and ``aggregate`` (``encoding/lib/cpu/*.cpp``, compiled here with ``torch.utils.cpp_extension``)."""

from scripts.parity import Config, Recipe

# The package ``encoding``'s __init__ imports the whole library (datasets, models, ...): it is replaced by a bare
# package on the checkout's folder that carries the compiled CPU extension as ``encoding.cpu``, as the official
# ``setup.py`` builds it (every ``encoding/lib/cpu/*.cpp``). ``encoding.nn`` and ``encoding.functions`` are bare
# packages too; their names resolve lazily to the official submodules.
_ENCODING = """
import glob, os, sys
from torch.utils.cpp_extension import load
_root = next(p for p in sys.path if os.path.isfile(os.path.join(p, 'encoding', 'lib', 'cpu', 'operator.cpp')))
_cpu = os.path.join(_root, 'encoding', 'lib', 'cpu')
__path__ = [os.path.join(_root, 'encoding')]
cpu = load('encoding_cpu_parity', sorted(glob.glob(os.path.join(_cpu, '*.cpp'))), extra_include_paths=[_cpu])
"""


def _lazy(package, where):
    """A bare package ``encoding.<package>`` whose attribute ``name`` comes from submodule ``where[name]``."""
    return f"""
import os, sys
_root = next(p for p in sys.path if os.path.isfile(os.path.join(p, 'encoding', 'lib', 'cpu', 'operator.cpp')))
__path__ = [os.path.join(_root, 'encoding', '{package}')]
_where = {where!r}
def __getattr__(name):
    import importlib
    if name not in _where:
        raise AttributeError(name)
    return getattr(importlib.import_module('encoding.{package}.' + _where[name]), name)
"""


# The official EncNet passes its SyncBatchNorm, which accepts both the 4-D features and the 3-D (N, K, C) codes;
# on one process it is plain batch norm, which this class reproduces without the dimension check.
_ANY_BN = """
from torch import nn
class AnyBatchNorm(nn.modules.batchnorm._BatchNorm):
    def _check_input_dim(self, input):
        pass
"""


def _build(cls, kwargs):
    namespace = {}
    exec(_ANY_BN, namespace)
    return cls(
        kwargs["in_channels"],
        None,
        ncodes=kwargs["ncodes"],
        se_loss=False,
        norm_layer=namespace["AnyBatchNorm"],
    )


def _call(module, inputs):
    (out,) = module(*inputs)
    return out


RECIPE = Recipe(
    module="encnet",
    repo="https://github.com/zhanghang1989/PyTorch-Encoding",
    file="encoding/models/sseg/encnet.py",
    cls="EncModule",
    configs=(
        Config(
            "default", {"in_channels": 16, "ncodes": 8}, {"channels": 16, "num_codes": 8}, ((2, 16, 5, 7),)
        ),
        Config(
            "k32-batch1",
            {"in_channels": 12, "ncodes": 32},
            {"channels": 12, "num_codes": 32},
            ((1, 12, 9, 6),),
        ),
    ),
    rename=(
        (r"^encoding\.0\.", "proj."),
        (r"^encoding\.1\.", "proj_bn."),
        (r"^encoding\.3\.codewords$", "codewords"),
        (r"^encoding\.3\.scale$", "scale"),
        (r"^encoding\.4\.", "code_bn."),
        (r"^fc\.0\.", "fc."),
    ),
    patches=(
        (
            "from .base import BaseNet\nfrom .fcn import FCNHead\nfrom ...nn import SyncBatchNorm, Encoding, Mean",
            "from encoding.nn import Encoding, Mean\nBaseNet = object\nSyncBatchNorm = None",
        ),
    ),
    stubs={
        "encoding": _ENCODING,
        "encoding.nn": _lazy("nn", {"Encoding": "encoding", "Mean": "customize"}),
        "encoding.functions": _lazy(
            "functions", {n: "encoding" for n in ("scaled_l2", "aggregate", "pairwise_cosine")}
        ),
    },
    build=_build,
    call=_call,
    note=(
        "Built as EncModule(C, nclass=None, ncodes=K, se_loss=False) with a dimension-agnostic batch norm (the "
        "official network passes its SyncBatchNorm, which takes the 4-D features and the 3-D codes alike); the "
        "patch replaces the file's package-relative imports (BaseNet, FCNHead for the network) by the official "
        "Encoding and Mean; the encoding package's __init__ (whole library) is replaced by bare packages that "
        "load the official CPU kernels compiled from encoding/lib/cpu."
    ),
)
