"""Put a registered attention module into an existing network.

``cvattn.insert(model, "se")`` adds an SE block to every residual block of ``model``, after the last
layer of the residual branch and before the addition: the placement of the SE and CBAM papers. Other
placements follow the SE paper's ablation (Fig. 5: SE-PRE, SE-POST, SE-Identity), BAM's (between
stages), or name the layers to put the module after or before. The channel count (and the spatial size,
for a module that needs it) is read from the network.
"""

from __future__ import annotations

import fnmatch
import inspect
import re
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from ._registry import create, get_spec

PLACEMENTS = ("residual", "pre", "post", "identity", "stage", "after", "before")
"""Where :func:`insert` can put a module; see its docstring."""


class Inserted(nn.Module):
    """A layer with an attention module applied to its output (or, with ``before=True``, its input)."""

    def __init__(self, module: nn.Module, attn: nn.Module, before: bool = False) -> None:
        super().__init__()
        self.module = module
        self.attn = attn
        self.before = before

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.before:
            return self.module(self.attn(x))
        return self.attn(self.module(x))

    def extra_repr(self) -> str:
        return "before=True" if self.before else ""


def _is_residual_block(module: nn.Module) -> bool:
    """cvattn's CIFAR blocks (``branch_end``) and the torchvision layout (``bnK`` layers + ``downsample``)."""
    if isinstance(module, Inserted):
        return False
    if isinstance(getattr(module, "branch_end", None), str):
        return True
    has_shortcut = hasattr(module, "downsample") or hasattr(module, "shortcut")
    return has_shortcut and any(re.fullmatch(r"bn\d+", name) for name, _ in module.named_children())


def _branch_end(block: nn.Module) -> str:
    if isinstance(getattr(block, "branch_end", None), str):
        return block.branch_end
    norms = [name for name, _ in block.named_children() if re.fullmatch(r"bn\d+", name)]
    return max(norms, key=lambda n: int(n[2:]))


def _shortcut_name(block: nn.Module) -> str:
    return "shortcut" if hasattr(block, "shortcut") else "downsample"


def _matches(name: str, targets: Sequence[str] | None) -> bool:
    return targets is None or any(name == t or fnmatch.fnmatchcase(name, t) for t in targets)


def _stage_names(model: nn.Module) -> list[str]:
    declared = getattr(model, "stages", None)
    if declared:
        return list(declared)
    return [name for name, _ in model.named_children() if re.fullmatch(r"layer\d+", name)]


def _points(model: nn.Module, where: str, targets: Sequence[str] | None) -> list[tuple[str, bool, str]]:
    """Insertion points as ``(name of the layer to wrap, before?, name of the layer to probe)``.

    The probed layer is the one whose output (input, for ``before``) the module sees.
    """
    named = dict(model.named_modules())
    if where in ("after", "before"):
        if not targets:
            raise ValueError(f"where={where!r} needs targets=[layer names or patterns]")
        names = [n for n in named if n and _matches(n, targets)]
        if not names:
            raise ValueError(f"no layer of the model matches targets={list(targets)}")
        return [(n, where == "before", n) for n in names]
    if where == "stage":
        stages = [n for n in (targets or _stage_names(model)) if n in named]
        if not stages:
            raise ValueError(
                "where='stage': the model has no stages named layer1, layer2, ...; pass targets="
            )
        return [(n, False, n) for n in stages]
    blocks = [n for n, m in named.items() if n and _is_residual_block(m) and _matches(n, targets)]
    if not blocks:
        raise ValueError(
            f"where={where!r}: found no residual block{' matching ' + str(list(targets)) if targets else ''}; "
            "name layers with where='after' and targets=[...] instead"
        )
    points = []
    for n in blocks:
        block = named[n]
        if where == "residual":
            end = f"{n}.{_branch_end(block)}"
            points.append((end, False, end))
        elif where == "pre":
            points.append((n, True, n))
        elif where == "post":
            points.append((n, False, n))
        else:  # identity: on the shortcut, whose output has the block's output shape
            points.append((f"{n}.{_shortcut_name(block)}", False, n))
    return points


def _structural_channels(module: nn.Module, before: bool) -> int | None:
    """Channels at a layer's output (input, ``before``) read from its conv and norm layers, or None."""
    layers = list(module.modules())
    if before:
        for m in layers:
            if isinstance(m, nn.Conv2d):
                return m.in_channels
        return None
    for m in reversed(layers):
        if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.num_features:
            return m.num_features
        if isinstance(m, nn.GroupNorm):
            return m.num_channels
        if isinstance(m, nn.Conv2d):
            return m.out_channels
    return None


def _probe(
    model: nn.Module, names: list[tuple[str, bool]], sample: torch.Tensor
) -> dict[tuple[str, bool], tuple[int, ...]]:
    """Run ``sample`` through ``model`` and record the per-sample shape at each ``(layer, before?)``."""
    named = dict(model.named_modules())
    shapes: dict[tuple[str, bool], tuple[int, ...]] = {}
    handles = []
    for name, before in names:

        def hook(module, args, output, key=(name, before)):
            tensor = args[0] if key[1] else output
            shapes.setdefault(key, tuple(tensor.shape[1:]))

        handles.append(named[name].register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(sample)
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    return shapes


def _get(model: nn.Module, name: str) -> nn.Module | None:
    for part in name.split("."):
        model = getattr(model, part)
    return model


def _set(model: nn.Module, name: str, value: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, value)


def insert(
    model: nn.Module,
    id: str,
    where: str = "residual",
    *,
    targets: Sequence[str] | None = None,
    sample: torch.Tensor | None = None,
    **module_kwargs: Any,
) -> nn.Module:
    """Insert the attention module ``id`` into ``model`` (in place) and return the model.

    Placements (``where``):

    - ``"residual"`` (default): in every residual block, after the last layer of the residual branch and
      before the addition: ``y = relu(A(F(x)) + x)``. The SE ("standard SE block") and CBAM placement.
    - ``"pre"``: at the input of every residual block, before both branches (SE-PRE): ``block(A(x))``.
    - ``"post"``: after every residual block, after its addition and activation (SE-POST): ``A(block(x))``.
    - ``"identity"``: on the shortcut of every residual block (SE-Identity): ``relu(F(x) + A(s(x)))``.
    - ``"stage"``: after each stage (``layer1``..``layer4``, or ``model.stages``), as BAM does.
    - ``"after"`` / ``"before"``: after (before) every layer named by ``targets``.

    Residual blocks are recognised as cvattn's CIFAR blocks (``cvattn.models``) and blocks laid out as
    torchvision's (``conv1..convK``/``bn1..bnK`` with ``downsample``); ``targets`` (names or shell
    patterns such as ``"layer4.*"``) restricts which blocks or stages get a module.

    The channel count, and the spatial size for a module whose constructor takes ``spatial_size``, is read
    by running ``sample`` (default: zeros of ``model.input_size`` when the model declares it) through
    the model; without a sample, channels are read from the wrapped layer's conv and norm layers.
    Load pre-trained weights before inserting: the wrapped layers' state-dict keys change
    (``bn2.weight`` becomes ``bn2.module.weight``).

    Args:
        model: the network; modified in place.
        id: a registry id of kind ``attention`` (``cvattn.list_modules("attention")``).
        where: one of :data:`PLACEMENTS`.
        targets: layer names or patterns (needed by ``after``/``before``; optional otherwise).
        sample: an input batch for reading shapes (one image is enough).
        **module_kwargs: overrides of the module's default configuration (e.g. ``reduction=8``).

    Returns:
        ``model``, with each insertion point wrapped in :class:`Inserted`.

    Examples:
        >>> import torch, cvattn
        >>> from cvattn.models import resnet18
        >>> net = cvattn.insert(resnet18(num_classes=10, width=16), "se", reduction=4)
        >>> net(torch.randn(2, 3, 32, 32)).shape
        torch.Size([2, 10])
        >>> sum(isinstance(m, cvattn.SqueezeExcitation) for m in net.modules())
        8
    """
    spec = get_spec(id)
    if spec.kind != "attention":
        raise ValueError(
            f"insert: {id!r} is a {spec.kind} module; only attention modules (same shape in and out) can be "
            "inserted; see cvattn.list_modules('attention')"
        )
    if where not in PLACEMENTS:
        raise ValueError(f"insert: where must be one of {PLACEMENTS}, got {where!r}")
    if "channels" in module_kwargs:
        raise ValueError("insert: channels is read from the network; do not pass it")
    points = _points(model, where, targets)
    if sample is None and getattr(model, "input_size", None) is not None:
        sample = torch.zeros(1, *model.input_size)
    shapes = _probe(model, [(p, b) for _, b, p in points], sample) if sample is not None else {}
    wants_size = "spatial_size" in inspect.signature(spec.cls.__init__).parameters
    named = dict(model.named_modules())
    param = next(model.parameters(), None)
    for wrap, before, probe in points:
        shape = shapes.get((probe, before))
        if shape is None and sample is not None:
            raise ValueError(f"insert: layer {probe!r} is not called in the forward pass of the sample")
        channels = shape[0] if shape else _structural_channels(named[probe], before)
        if channels is None:
            raise ValueError(f"insert: cannot read the channels at {probe!r}; pass sample=<an input batch>")
        kwargs = {**module_kwargs, "channels": channels}
        if wants_size and "spatial_size" not in module_kwargs:
            if shape is None or len(shape) != 3:
                raise ValueError(f"insert: {id!r} needs the spatial size; pass sample=<an input batch>")
            kwargs["spatial_size"] = tuple(shape[1:])
        attn = create(id, **kwargs)
        if param is not None:
            attn.to(device=param.device, dtype=param.dtype)
        layer = _get(model, wrap)
        if where == "identity" and layer is None:  # torchvision block without downsample
            _set(model, wrap, attn)
        else:
            _set(model, wrap, Inserted(layer, attn, before))
    return model
