"""SNL against the official ``SNL-Classification/model/nls/basic.py`` (``Stage`` with ``nl_type="snl"``, which
forces the symmetric, normalised affinity, and its ``SNLUnit`` from ``model/nls/snl.py``). The file imports
every nonlocal variant of the repository, two of which (``arma``, ``direct``) are missing from it: those imports
are removed, and ``snl`` is imported from the file's own folder."""

from scripts.parity import Config, Recipe

_UNUSED = (
    ("nl", "NLUnit"),
    ("ns", "NSUnit"),
    ("dnl", "DNLUnit"),
    ("arma", "ARMAUnit"),
    ("direct", "DirectNLUnit"),
)

RECIPE = Recipe(
    module="snl",
    repo="https://github.com/zh460045050/SNL_ICCV2021",
    file="SNL-Classification/model/nls/basic.py",
    cls="Stage",
    configs=(
        Config(
            "default",
            {"inplanes": 16, "planes": 8, "nl_type": "snl", "stage_num": 1},
            {"channels": 16},
            ((2, 16, 5, 7),),
        ),
        Config(
            "three-units",
            {"inplanes": 12, "planes": 4, "nl_type": "snl", "stage_num": 3},
            {"channels": 12, "hidden_channels": 4, "stage_num": 3},
            ((1, 12, 6, 9),),
        ),
    ),
    patches=(
        ("from model.nls.snl import SNLUnit", "from snl import SNLUnit"),
        *((f"from model.nls.{mod} import {cls}\n", "") for mod, cls in _UNUSED),
        ("from model.nls.caylay import CayleySNLUnit\n", ""),
    ),
    stubs={"termcolor": "def cprint(*args, **kwargs):\n    pass\n"},
    note="termcolor (imported for logging, unused by the block) is stubbed.",
)
