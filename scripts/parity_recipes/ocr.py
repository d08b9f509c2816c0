"""OCR against the official HRNet-OCR ``lib/models/seg_hrnet_ocr.py``: ``SpatialGather_Module`` (soft object
regions from the auxiliary logits) followed by ``SpatialOCR_Module`` (object attention, fusion conv and Dropout2d),
composed as ``HighResolutionNet.forward`` does (``ocr_gather_head`` then ``ocr_distri_head``)."""

import sys

from torch import nn

from scripts.parity import Config, Recipe


class _GatherThenOCR(nn.Module):
    """``context = ocr_gather_head(feats, regions)``; ``ocr_distri_head(feats, context)``."""

    def __init__(self, gather, ocr):
        super().__init__()
        self.gather, self.ocr = gather, ocr

    def forward(self, feats, regions):
        return self.ocr(feats, self.gather(feats, regions))


def _build(cls, kwargs):
    kwargs = dict(kwargs)
    gather = sys.modules[cls.__module__].SpatialGather_Module(kwargs.pop("cls_num"))
    return _GatherThenOCR(gather, cls(**kwargs))


RECIPE = Recipe(
    module="ocr",
    repo="https://github.com/HRNet/HRNet-Semantic-Segmentation",
    file="lib/models/seg_hrnet_ocr.py",
    cls="SpatialOCR_Module",
    configs=(
        Config(
            "non-square",
            {
                "cls_num": 5,
                "in_channels": 16,
                "key_channels": 8,
                "out_channels": 16,
                "scale": 1,
                "dropout": 0.05,
            },
            {"channels": 16, "num_classes": 5, "key_channels": 8, "dropout": 0.05},
            ((2, 16, 4, 6), (2, 5, 4, 6)),
        ),
        Config(
            "out-channels",
            {
                "cls_num": 3,
                "in_channels": 12,
                "key_channels": 6,
                "out_channels": 10,
                "scale": 1,
                "dropout": 0.1,
            },
            {"channels": 12, "num_classes": 3, "out_channels": 10, "dropout": 0.1},
            ((1, 12, 6, 6), (1, 3, 6, 6)),
        ),
    ),
    rename=(
        (r"^ocr\.object_context_block\.(f_pixel|f_object)\.0\.", r"\1.0.conv."),
        (r"^ocr\.object_context_block\.(f_pixel|f_object)\.1\.0\.", r"\1.0.bn."),
        (r"^ocr\.object_context_block\.(f_pixel|f_object)\.2\.", r"\1.1.conv."),
        (r"^ocr\.object_context_block\.(f_pixel|f_object)\.3\.0\.", r"\1.1.bn."),
        (r"^ocr\.object_context_block\.(f_down|f_up)\.0\.", r"\1.conv."),
        (r"^ocr\.object_context_block\.(f_down|f_up)\.1\.0\.", r"\1.bn."),
        (r"^ocr\.conv_bn_dropout\.0\.", "fuse.conv."),
        (r"^ocr\.conv_bn_dropout\.1\.0\.", "fuse.bn."),
    ),
    # the package-relative import of the BatchNorm helper, made importable from the file's folder
    patches=(("from .bn_helper import", "from bn_helper import"),),
    build=_build,
    note="BatchNorm2d is torch.nn.SyncBatchNorm (bn_helper.py, torch >= 1), which without a process group "
    "normalises as BatchNorm2d. Train mode draws the same Dropout2d mask in both (same seed, same shape).",
)
