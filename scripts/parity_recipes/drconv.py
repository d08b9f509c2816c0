"""DRConv against the official ``DRConv.py`` (``DRConv``), fed the guided mask of the official ShuffleNetV2 block
(``masknet``: a 1x1 convolution, softmax, argmax), its CUDA region-wise product replaced by a pure-PyTorch reading
of ``Deformable_MatMul3/csrc/cuda/Deformable_MatMul_cuda.cu`` (in this recipe).

1x1 (as the official network uses it, no unfold), 3x3 with padding, and 3x3 with stride 2 (the official layer
resizes the mask to the output by nearest interpolation), with and without bias.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from scripts.parity import Config, Recipe

_KERNEL = '''
import torch
from torch import nn
from torch.autograd import Function


class _RegionMatMul(Function):
    """Deformable_MatMul_FForward and the two backward kernels of Deformable_MatMul_cuda.cu, use_alpha = 0."""

    @staticmethod
    def forward(ctx, mat0, mat1, mask, alpha, use_alpha, beta):
        # mat0 (N, I, H, W); mat1 (N, O, I, M); mask (N, H, W) region indices; alpha (N, M, H, W)
        assert not use_alpha
        idx = mask.long()
        n, i, h, w = mat0.shape
        o, m = mat1.shape[1], mat1.shape[3]
        # the filter of each position's region: (N, H, W, O, I)
        sel = mat1.permute(0, 3, 1, 2)[torch.arange(n)[:, None, None], idx]
        out = torch.einsum("nhwoi,nihw->nohw", sel, mat0)
        ctx.save_for_backward(mat0, mat1, idx)
        ctx.beta = beta
        return out

    @staticmethod
    def backward(ctx, grad_out):
        mat0, mat1, idx = ctx.saved_tensors
        n, i, h, w = mat0.shape
        m = mat1.shape[3]
        sel = mat1.permute(0, 3, 1, 2)[torch.arange(n)[:, None, None], idx]
        grad_mat0 = torch.einsum("nohw,nhwoi->nihw", grad_out, sel)  # Deformable_MatMul_0FBackward
        onehot = torch.nn.functional.one_hot(idx, m).to(mat0.dtype)  # (N, H, W, M)
        # Deformable_MatMul_1FBackward: the weight of the selected region only; Alpha gets every region's product
        grad_mat1 = torch.einsum("nohw,nihw,nhwm->noim", grad_out, mat0, onehot)
        grad_alpha = torch.einsum("nohw,nihw,noim->nmhw", grad_out, mat0, mat1)
        return grad_mat0, grad_mat1, None, ctx.beta * grad_alpha, None, None


class Deformable_MatMul3(nn.Module):
    def forward(self, mat0, mat1, mask, Alpha, use_alpha=False, beta=1.0):
        return _RegionMatMul.apply(mat0, mat1, mask, Alpha, use_alpha, beta)
'''
"""The official CUDA operation in PyTorch, each line after the kernel it reads."""


class _Official(nn.Module):
    """The official layer with the guided mask of the official block computed from the same input."""

    def __init__(self, layer: nn.Module, in_channels: int, groups_num: int) -> None:
        super().__init__()
        self.masknet = nn.Conv2d(in_channels, groups_num, kernel_size=1, stride=1, padding=0, bias=False)
        self.layer = layer

    def forward(self, x: Any) -> Any:
        alpha = F.softmax(self.masknet(x), dim=1)
        mask = torch.argmax(alpha, dim=1)
        return self.layer(x, mask, alpha)


def _build(cls: Any, kwargs: dict[str, Any]) -> nn.Module:
    return _Official(cls(**kwargs), kwargs["in_channels"], kwargs.get("groups_num", 8))


def _config(name: str, shape: tuple[int, ...], **ours: Any) -> Config:
    official = dict(ours)
    if "num_regions" in official:
        official["groups_num"] = official.pop("num_regions")
    if "num_bases" in official:
        official["num_W"] = official.pop("num_bases")
    return Config(name, official, ours, (shape,))


RECIPE = Recipe(
    module="drconv",
    repo="https://github.com/megvii-research/DRConv",
    file="DRConv.py",
    cls="DRConv",
    configs=(
        _config("1x1", (2, 8, 5, 7), in_channels=8, out_channels=12, kernel_size=1),
        _config(
            "3x3-no-bias-regions4",
            (2, 6, 6, 5),
            in_channels=6,
            out_channels=8,
            kernel_size=3,
            padding=1,
            bias=False,
            num_regions=4,
            num_bases=3,
        ),
        _config(
            "3x3-stride2-dilation2",
            (3, 6, 9, 8),
            in_channels=6,
            out_channels=4,
            kernel_size=3,
            stride=2,
            padding=2,
            dilation=2,
        ),
    ),
    rename=((r"^layer\.routing_fc\.", "routing."), (r"^layer\.", ""), (r"^masknet\.", "guide.")),
    stubs={"Deformable_MatMul3": "", "Deformable_MatMul3.Deformable_MatMul3": _KERNEL},
    build=_build,
    note="The region-wise product is a CUDA extension (Deformable_MatMul_cu3; on CPU the official module returns "
    "zeros); the stub replaces it by a pure-PyTorch reading of its forward and backward kernels (in this recipe). "
    "The guided mask comes from the official ShuffleNetV2 block (make_block.masknet, softmax, argmax), computed "
    "by the adapter from the layer's input as ours does.",
)
