"""SAC against the official ``mmdet/ops/saconv.py`` (``SAConv2d``, on ``ConvAWS2d`` of ``mmdet/ops/conv_ws.py``).

The plain path (``use_deform=False``) runs the official code as it is, with two patches: the package-relative
imports become plain imports (the file's folder is on ``sys.path``), and ``conv2d_forward(x, weight)`` of
PyTorch 1.4 becomes today's ``_conv_forward(x, weight, self.bias)``. mmdet's ``deform_conv`` is a CUDA kernel;
for the deformable configurations (DetectoRS's setting) it is replaced by ``_DCN``, a pure-PyTorch reading of
``deformable_im2col_gpu_kernel`` in ``mmdet/ops/dcn/src/deform_conv_cuda_kernel.cu``: each tap samples
``h_in + i * dilation + offset_h`` bilinearly (taps in row-major order, offsets interleaved ``(dy, dx)``), zero
outside ``(-1, H) x (-1, W)`` and for each corner outside the map, then the columns meet the kernel in a
matmul, without the bias (the official deformable call passes none). The deformable configurations use
``bias=False``, as DetectoRS's ResNet does; ours would add a bias (see the module's deviations).
"""

from scripts.parity import Config, Recipe

_DCN = """
import torch


def _pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _bilinear(img, h, w):
    # img: (N, C, H, W); h, w: (N, L) sampling points -> (N, C, L), as deformable_im2col_bilinear
    n, c, height, width = img.shape
    flat = img.reshape(n, c, height * width)
    h_low, w_low = torch.floor(h), torch.floor(w)
    lh, lw = h - h_low, w - w_low
    h_low, w_low = h_low.long(), w_low.long()
    out = torch.zeros(n, c, h.shape[1], dtype=img.dtype)
    for dh, dw, wt in ((0, 0, (1 - lh) * (1 - lw)), (0, 1, (1 - lh) * lw), (1, 0, lh * (1 - lw)), (1, 1, lh * lw)):
        hh, ww = h_low + dh, w_low + dw
        ok = (hh >= 0) & (hh <= height - 1) & (ww >= 0) & (ww <= width - 1)
        idx = (hh.clamp(0, height - 1) * width + ww.clamp(0, width - 1)).unsqueeze(1).expand(n, c, -1)
        out = out + torch.gather(flat, 2, idx) * (wt * ok).unsqueeze(1)
    return out


def deform_conv(x, offset, weight, stride=1, padding=0, dilation=1, groups=1, deformable_groups=1):
    assert deformable_groups == 1
    (sh, sw), (ph, pw), (dh, dw) = _pair(stride), _pair(padding), _pair(dilation)
    n, c, height, width = x.shape
    c_out, _, kh, kw = weight.shape
    ho, wo = offset.shape[-2:]
    rows = (torch.arange(ho, dtype=x.dtype) * sh - ph).view(ho, 1).expand(ho, wo).reshape(1, -1)
    cols_ = (torch.arange(wo, dtype=x.dtype) * sw - pw).view(1, wo).expand(ho, wo).reshape(1, -1)
    columns = []
    for i in range(kh):
        for j in range(kw):
            tap = i * kw + j
            h_im = rows + i * dh + offset[:, 2 * tap].reshape(n, -1)
            w_im = cols_ + j * dw + offset[:, 2 * tap + 1].reshape(n, -1)
            inside = (h_im > -1) & (w_im > -1) & (h_im < height) & (w_im < width)
            columns.append(_bilinear(x, h_im, w_im) * inside.unsqueeze(1))
    col = torch.stack(columns, 2)  # (N, C, K*K, L)
    col = col.reshape(n, groups, -1, ho * wo)
    w = weight.reshape(groups, c_out // groups, -1)
    return torch.einsum("gok,ngkl->ngol", w, col).reshape(n, c_out, ho, wo)
"""

RECIPE = Recipe(
    module="sac",
    repo="https://github.com/joe-siyuan-qiao/DetectoRS",
    file="mmdet/ops/saconv.py",
    cls="SAConv2d",
    configs=(
        Config(
            "plain",
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1},
            {"in_channels": 8, "out_channels": 8, "kernel_size": 3, "padding": 1, "use_deform": False},
            ((2, 8, 9, 11),),
        ),
        Config(
            "plain-stride2-groups2-dilation2",
            {
                "in_channels": 8,
                "out_channels": 12,
                "kernel_size": 3,
                "stride": 2,
                "padding": 2,
                "dilation": 2,
                "groups": 2,
            },
            {
                "in_channels": 8,
                "out_channels": 12,
                "kernel_size": 3,
                "stride": 2,
                "padding": 2,
                "dilation": 2,
                "groups": 2,
                "use_deform": False,
            },
            ((2, 8, 13, 10),),
        ),
        Config(
            "deform",
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 3,
                "padding": 1,
                "bias": False,
                "use_deform": True,
            },
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 3,
                "padding": 1,
                "bias": False,
                "use_deform": True,
            },
            ((2, 8, 9, 7),),
        ),
        Config(
            "deform-stride2",
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "bias": False,
                "use_deform": True,
            },
            {
                "in_channels": 8,
                "out_channels": 8,
                "kernel_size": 3,
                "stride": 2,
                "padding": 1,
                "bias": False,
                "use_deform": True,
            },
            ((2, 8, 10, 9),),
        ),
    ),
    patches=(
        ("from .conv_ws import ConvAWS2d", "from conv_ws import ConvAWS2d"),
        ("from .dcn import deform_conv", "from _sac_dcn import deform_conv"),
        ("super().conv2d_forward(x, weight)", "super()._conv_forward(x, weight, self.bias)"),
    ),
    stubs={"_sac_dcn": _DCN},
    note=(
        "mmdet's CUDA deform_conv is replaced by a pure-PyTorch reading of its im2col kernel (in the recipe); "
        "the plain path runs the official code with its imports and PyTorch-1.4 conv call patched."
    ),
)
