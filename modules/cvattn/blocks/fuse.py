"""Folding a batch normalisation into the convolution before it.

Not a paper's mechanism (so not registered), but the step every re-parameterisable block needs: at
inference ``BN(conv(x))`` is an affine map of ``conv(x)`` per output channel, so it can be folded into the
conv's weight and bias. Used by the ``switch_to_deploy()`` / ``fuse()`` methods of e.g. ACNet.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["fuse_conv_bn"]


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
