"""What the NAFNet recipes share: the official ``NAFNet_arch.py`` imports its helpers through the ``basicsr``
package, whose ``__init__`` pulls in the whole training framework (cv2, lmdb, ...). The two imports are redirected to
the sibling files ``arch_util.py`` (the official ``LayerNorm2d``, which runs as it is) and ``local_arch.py``, and
``basicsr.utils`` (whose logger ``arch_util`` imports and never calls) is stubbed."""

REPO = "https://github.com/megvii-research/NAFNet"
FILE = "basicsr/models/archs/NAFNet_arch.py"
PATCHES = (
    ("from basicsr.models.archs.arch_util import LayerNorm2d", "from arch_util import LayerNorm2d"),
    ("from basicsr.models.archs.local_arch import Local_Base", "from local_arch import Local_Base"),
)
STUBS = {
    "basicsr": "",
    "basicsr.utils": "def get_root_logger(*args, **kwargs):\n    raise NotImplementedError('stub')\n",
}
NOTE = (
    "The file's basicsr imports of LayerNorm2d and Local_Base are redirected to the sibling arch_util.py and "
    "local_arch.py (the package __init__ needs the training framework); basicsr.utils is stubbed."
)
