"""timm stubs for importing DeiT's ``cait_models.py`` (its network imports timm; the attention classes do not)."""

TIMM_LAYERS = """
def DropPath(*args, **kwargs):
    raise NotImplementedError('stub')
def trunc_normal_(tensor, *args, **kwargs):
    return tensor
"""

TIMM_VIT = """
def _cfg(*args, **kwargs):
    return {}
class Mlp:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('stub')
class PatchEmbed:
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('stub')
"""

STUBS = {
    "timm": "",
    "timm.models": "",
    "timm.models.layers": TIMM_LAYERS,
    "timm.models.vision_transformer": TIMM_VIT,
    "timm.models.registry": "def register_model(fn):\n    return fn\n",
}
