"""IAU against the official ``models/IAU.py`` (``IAU``, with ``SIAU`` from ``models/SIAU.py``): channel
interaction, part-graph spatial interaction and the update; the official forward returns ``(z, a)``, of which
the updated map ``z`` is compared (ours does not return the part maps ``a``, as documented)."""

from contextlib import contextmanager

import torch

from scripts.parity import Config, Recipe


@contextmanager
def _cuda_is_noop():
    """``SIAU.forward`` moves its identity matrix to the GPU with ``.cuda()``: make that a no-op on CPU."""
    saved = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        torch.Tensor.cuda = saved


def _call(module, inputs):
    with _cuda_is_noop():
        z, _parts = module(*inputs)
    return z


RECIPE = Recipe(
    module="iaunet",
    repo="https://github.com/blue-blue272/ImgReID-IAnet",
    file="models/IAU.py",
    cls="IAU",
    configs=(
        Config("non-square", {"in_channels": 16}, {"channels": 16}, ((2, 16, 6, 5),)),
        Config("channels-20", {"in_channels": 20}, {"channels": 20}, ((3, 20, 4, 4),)),
    ),
    rename=(
        (r"^W1\.0\.", "W1.conv."),
        (r"^W1\.1\.", "W1.bn."),
        (r"^W2\.0\.", "W2."),
        (r"^W2\.1\.", "W2_norm."),
        (r"^sa\.conv\.", "part_attn."),
        (r"^SIAU\.module_w\.relation\.0\.", "relation.conv."),
        (r"^SIAU\.module_w\.relation\.1\.", "relation.bn."),
        (r"^SIAU\.module_l\.fsm\.0\.", "aggregate.conv."),
        (r"^SIAU\.module_l\.fsm\.1\.", "aggregate.bn."),
    ),
    call=_call,
    note="SIAU.py (imported by IAU.py) calls .cuda() on an identity matrix; the call adapter makes "
    "Tensor.cuda a no-op during the forward instead of patching that second file.",
)
