"""Folding a batch normalisation into the convolution before it.

Not a paper's mechanism (so not registered), but the step every re-parameterisable block needs: at
inference ``BN(conv(x))`` is an affine map of ``conv(x)`` per output channel, so it can be folded into the
conv's weight and bias; an identity branch ``BN(x)`` is the same fold applied to an identity kernel, and a
smaller kernel joins a larger one by zero padding. Used by the ``switch_to_deploy()`` / ``fuse()`` methods of
e.g. ACNet and RepVGG.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["fuse_conv_bn", "fuse_identity_bn", "pad_kernel"]


def fuse_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """One ``nn.Conv2d`` equal to ``bn(conv(x))`` with ``bn`` in eval mode (running statistics).

    With ``s = gamma / sqrt(running_var + eps)``, the fused conv has weight ``W * s`` (scaled per output
    channel) and bias ``beta + (b - running_mean) * s`` (``b = 0`` for a conv without bias; ``gamma = 1``,
    ``beta = 0`` for a BN without affine parameters). Every other setting of ``conv`` is kept: stride,
    padding (also ``"same"``/``"valid"``), dilation, groups, padding mode, device and dtype. The result
    always has a bias. Neither input is modified; the result is a new module with fresh tensors that
    require gradient.

    Args:
        conv: the convolution (any configuration).
        bn: the batch normalisation applied to ``conv``'s output; it must track running statistics.

    Returns:
        A new ``nn.Conv2d`` computing ``bn.eval()(conv(x))``.

    Raises:
        ValueError: when ``bn`` does not match ``conv``'s output channels or keeps no running statistics.

    Examples:
        >>> import torch, cvattn
        >>> conv, bn = torch.nn.Conv2d(8, 16, 3, padding=1, bias=False), torch.nn.BatchNorm2d(16).eval()
        >>> fused = cvattn.fuse_conv_bn(conv, bn)
        >>> x = torch.randn(2, 8, 7, 7)
        >>> torch.allclose(fused(x), bn(conv(x)), atol=1e-6)
        True
    """
    if not isinstance(conv, nn.Conv2d) or not isinstance(bn, nn.modules.batchnorm._BatchNorm):
        raise ValueError(
            f"fuse_conv_bn expects (nn.Conv2d, batch norm), got ({type(conv).__name__}, {type(bn).__name__})"
        )
    if bn.num_features != conv.out_channels:
        raise ValueError(
            f"fuse_conv_bn: expected a batch norm over {conv.out_channels} channels "
            f"(the conv's out_channels), got {bn.num_features}"
        )
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(
            "fuse_conv_bn: expected a batch norm with running statistics (track_running_stats=True)"
        )
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
        padding_mode=conv.padding_mode,
        device=conv.weight.device,
        dtype=conv.weight.dtype,
    )
    with torch.no_grad():
        scale = torch.rsqrt(bn.running_var + bn.eps)  # (C_out,)
        if bn.weight is not None:
            scale = scale * bn.weight
        shift = -bn.running_mean * scale
        if bn.bias is not None:
            shift = shift + bn.bias
        if conv.bias is not None:
            shift = shift + conv.bias * scale
        fused.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
        fused.bias.copy_(shift)
    return fused


def fuse_identity_bn(bn: nn.BatchNorm2d, kernel_size: int = 1, groups: int = 1) -> nn.Conv2d:
    """A ``K x K`` conv (with bias, "same" padding) equal to ``bn(x)`` in eval mode: the identity branch folded.

    The identity is the conv whose kernel is 1 at the centre tap linking each channel to itself (channel
    ``i`` sits at input ``i mod (C / groups)`` of its group), and 0 elsewhere; :func:`fuse_conv_bn` then folds
    ``bn`` into it.

    Args:
        bn: the batch normalisation of the identity branch (``C`` channels, running statistics).
        kernel_size: the odd kernel size ``K`` of the conv it is to be added to.
        groups: the groups of that conv (``C`` must be divisible by it).

    Examples:
        >>> import torch, cvattn
        >>> bn = torch.nn.BatchNorm2d(8).eval()
        >>> x = torch.randn(2, 8, 5, 5)
        >>> torch.allclose(cvattn.blocks.fuse.fuse_identity_bn(bn, 3, groups=2)(x), bn(x), atol=1e-6)
        True
    """
    channels = bn.num_features
    if kernel_size % 2 == 0 or channels % groups:
        raise ValueError(
            f"fuse_identity_bn: expected an odd kernel_size and channels divisible by groups, "
            f"got kernel_size={kernel_size}, channels={channels}, groups={groups}"
        )
    identity = nn.Conv2d(
        channels,
        channels,
        kernel_size,
        padding=kernel_size // 2,
        groups=groups,
        bias=False,
        device=bn.running_mean.device,
        dtype=bn.running_mean.dtype,
    )
    with torch.no_grad():
        identity.weight.zero_()
        index = torch.arange(channels, device=identity.weight.device)
        identity.weight[index, index % (channels // groups), kernel_size // 2, kernel_size // 2] = 1
    return fuse_conv_bn(identity, bn)


def pad_kernel(weight: torch.Tensor, kernel_size: int | tuple[int, int]) -> torch.Tensor:
    """``weight`` ``(O, I, k_h, k_w)`` zero-padded equally on each side to ``kernel_size`` (centres aligned).

    A ``k x k`` conv with padding ``p`` equals the ``K x K`` conv with padding ``p + (K - k) / 2`` whose kernel
    is this padded one, so kernels of one block join by addition.
    """
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    dh, dw = kh - weight.shape[-2], kw - weight.shape[-1]
    if dh < 0 or dw < 0 or dh % 2 or dw % 2:
        raise ValueError(
            f"pad_kernel: expected a kernel smaller than {kh}x{kw} by an even amount, got {tuple(weight.shape[-2:])}"
        )
    return torch.nn.functional.pad(weight, (dw // 2, dw // 2, dh // 2, dh // 2))
