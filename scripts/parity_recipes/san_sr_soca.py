"""SAN's second-order channel attention against the official ``TrainCode/model/san.py`` (``SOCA``), with the
official ``MPNCOV.CovpoolLayer`` and ``MPNCOV.SqrtmLayer`` (5 Newton-Schulz iterations) and their hand-written
backward passes. One configuration has a side above the official 1000-pixel crop. The official ``Covpool`` builds
its centring matrix in float32 before casting it, hence differences of about 1e-9 in float64."""

from scripts.parity import Config, Recipe

# The official Sqrtm allocates its iterates Y and Z with torch.zeros / torch.eye in the default dtype (float32),
# so a float64 input fails in bmm. The import of MPNCOV is replaced by loading the official MPNCOV.py from the
# file's folder with those two allocations given the input's dtype; nothing else in it changes.
_MPNCOV = """import os as _os, types as _types
_src = open(_os.path.join(_os.path.dirname(__file__), 'MPNCOV', 'python', 'MPNCOV.py')).read()
for _old, _new in (
    ('requires_grad = False, device = x.device)', 'requires_grad = False, device = x.device, dtype = x.dtype)'),
    ('Z = torch.eye(dim,dim,device = x.device)', 'Z = torch.eye(dim,dim,device = x.device, dtype = x.dtype)'),
):
    assert _old in _src, _old
    _src = _src.replace(_old, _new)
MPNCOV = _types.ModuleType('MPNCOV')
exec(compile(_src, 'MPNCOV.py', 'exec'), MPNCOV.__dict__)"""

RECIPE = Recipe(
    module="san-sr-soca",
    repo="https://github.com/daitao/SAN",
    file="TrainCode/model/san.py",
    cls="SOCA",
    configs=(
        Config(
            "default", {"channel": 16, "reduction": 8}, {"channels": 16, "reduction": 8}, ((2, 16, 5, 7),)
        ),
        Config(
            "reduction-4-batch1",
            {"channel": 12, "reduction": 4},
            {"channels": 12, "reduction": 4},
            ((1, 12, 9, 6),),
        ),
        Config(
            "crop-wide", {"channel": 2, "reduction": 2}, {"channels": 2, "reduction": 2}, ((1, 2, 1, 1003),)
        ),
    ),
    rename=((r"^conv_du\.0\.", "conv_down."), (r"^conv_du\.2\.", "conv_up.")),
    patches=(("from model.MPNCOV.python import MPNCOV", _MPNCOV),),
    stubs={"model": "import types\ncommon = types.SimpleNamespace(default_conv=None)\n"},
    note=(
        "model.common (the SAN network's convolutions, used only in its default arguments) is stubbed; the "
        "patch loads the official MPNCOV.py from the file's folder with its float32-only allocations of the "
        "Newton-Schulz iterates given the input's dtype, so that it runs in float64."
    ),
)
