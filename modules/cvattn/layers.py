"""Pieces shared by every mechanism: channel rounding, layer lookup by name, conv-norm-act, input checks."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import fx, nn

LayerType = type[nn.Module] | Callable[..., nn.Module] | str | None

_ACTIVATIONS: dict[str, Callable[..., nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "prelu": nn.PReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "hard_swish": nn.Hardswish,
    "sigmoid": nn.Sigmoid,
    "hard_sigmoid": nn.Hardsigmoid,
    "tanh": nn.Tanh,
    "softmax": nn.Softmax,
    "identity": nn.Identity,
}


def make_divisible(
    value: float, divisor: int = 8, min_value: int | None = None, round_limit: float = 0.9
) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never below ``round_limit`` of it.

    The rule of the TensorFlow MobileNet code, used for hidden widths (``min_value`` defaults to ``divisor``).
    """
    min_value = min_value or divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    if rounded < round_limit * value:
        rounded += divisor
    return rounded


def get_layer(layer: LayerType) -> Callable[..., nn.Module] | None:
    """Resolve an activation/gate given by name (``"relu"``, ``"sigmoid"``, ...) or pass a class through."""
    if layer is None or not isinstance(layer, str):
        return layer
    try:
        return _ACTIVATIONS[layer.lower().replace("-", "_")]
    except KeyError:
        raise ValueError(f"unknown layer name {layer!r}; known: {', '.join(sorted(_ACTIVATIONS))}") from None


def create_act(layer: LayerType, inplace: bool = False) -> nn.Module:
    """Instantiate an activation given by name or class; ``None`` gives ``nn.Identity``."""
    factory = get_layer(layer)
    if factory is None:
        return nn.Identity()
    if inplace and factory in (
        nn.ReLU,
        nn.ReLU6,
        nn.LeakyReLU,
        nn.ELU,
        nn.SiLU,
        nn.Hardswish,
        nn.Hardsigmoid,
    ):
        return factory(inplace=True)
    return factory()


class ConvNormAct(nn.Sequential):
    """Conv2d → norm → activation; padding defaults to "same" for odd kernels (``dilation * (k - 1) // 2``)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int] = 1,
        stride: int = 1,
        padding: int | tuple[int, int] | None = None,
        dilation: int = 1,
        groups: int = 1,
        bias: bool = False,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
        inplace: bool = True,
    ) -> None:
        if padding is None:
            ks = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
            padding = tuple(dilation * (k - 1) // 2 for k in ks)
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=bias
        )
        self.bn = norm_layer(out_channels) if norm_layer is not None else nn.Identity()
        self.act = create_act(act_layer, inplace=inplace)


def check_input(x: torch.Tensor, channels: int | None = None, ndim: int = 4, name: str = "input") -> None:
    """Raise ``ValueError`` unless ``x`` has rank ``ndim`` and, if given, ``channels`` channels in dim 1.

    Skipped while ``torch.fx`` traces (the shape is symbolic then).
    """
    if isinstance(x, fx.Proxy):
        return
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name}: expected a tensor, got {type(x).__name__}")
    if x.dim() == ndim and (channels is None or x.shape[1] == channels):
        return
    expected = "(N, C, H, W)" if ndim == 4 else f"a {ndim}-D tensor"
    if channels is not None and ndim == 4:
        expected = f"(N, {channels}, H, W)"
    if x.dim() != ndim:
        raise ValueError(f"{name}: expected shape {expected}, got {tuple(x.shape)}")
    raise ValueError(f"{name}: expected shape {expected}, got {tuple(x.shape)} ({x.shape[1]} channels)")


@fx.wrap
def _batch_norm_any_batch(
    x: torch.Tensor,
    running_mean: torch.Tensor,
    running_var: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    training: bool,
    momentum: float,
    eps: float,
) -> torch.Tensor:
    """Batch norm that falls back to the running statistics when a batch has one value per channel."""
    batch_stats = training and x.numel() > x.size(1)
    return F.batch_norm(x, running_mean, running_var, weight, bias, batch_stats, momentum, eps)


class BatchNormAnyBatch2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` that also trains on a batch of one ``(1, C, 1, 1)`` descriptor.

    Batch statistics of a single value are undefined (``nn.BatchNorm2d`` raises); such a batch is
    normalised with the running statistics instead, which are then left unchanged. Every other batch is
    normalised exactly as by ``nn.BatchNorm2d`` (with a fixed ``momentum``).
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _batch_norm_any_batch(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training,
            self.momentum,
            self.eps,
        )


def is_channels_last(x: torch.Tensor) -> bool:
    """Whether ``x`` is a 4-D map laid out channels_last (and not also plain contiguous, as a 1x1 map is).
    False while ``torch.fx`` traces."""
    return (
        not isinstance(x, fx.Proxy)
        and x.dim() == 4
        and not x.is_contiguous()
        and x.is_contiguous(memory_format=torch.channels_last)
    )


def match_memory_format(out: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``out`` laid out as ``like``: channels_last when ``like`` is a channels_last 4-D tensor, else contiguous.

    Attention computed on token sequences ends in a transpose, whose result is a strided view; handed on
    as it is, the odd strides reach the next layers (and their gradients), which then run slow paths,
    and oneDNN's 1x1-convolution weight gradient has crashed on such a layout. One copy here avoids that.
    While ``torch.fx`` traces, the result is plain contiguous.
    """
    if is_channels_last(like):
        return out.contiguous(memory_format=torch.channels_last)
    return out.contiguous()


def check_divisible(in_channels: int, out_channels: int, divisor: int, name: str = "groups") -> None:
    """Raise ``ValueError`` unless both channel counts split into ``divisor`` equal groups (``name`` says
    what ``divisor`` is: ``"groups"``, ``"heads"``, ...)."""
    if in_channels % divisor or out_channels % divisor:
        raise ValueError(
            f"in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by {name} ({divisor})"
        )


def drop_path(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """Stochastic depth: zero a residual branch ``x`` for whole samples with probability ``p`` in training and
    scale the kept samples by ``1 / (1 - p)``; the identity in eval mode or when ``p`` is 0."""
    if p <= 0.0 or not training:
        return x
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
    return x * (mask / keep)


def attend(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    scale: float,
    dropout_p: float = 0.0,
) -> torch.Tensor:
    """``softmax(scale q k^T + bias) v`` over the last two axes, with dropout ``dropout_p`` on the weights.

    ``bias`` is an additive float mask broadcast to the logits (a relative-position bias, a shift mask).
    With a bias on the CPU the product is written out: there PyTorch's ``scaled_dot_product_attention`` takes
    its math fallback, which scales ``q`` and ``k`` separately and copies broadcast inputs, and was 20-40 %
    slower (GC ViT's 8 x 16 windows of 49 tokens, 8 heads of 32: forward and backward 56 vs 46 ms, forward
    alone 28 vs 16 ms, one thread). Without a bias, on another device or while ``torch.fx`` traces, SDPA is called.
    """
    if bias is None or isinstance(q, fx.Proxy) or q.device.type != "cpu" or bias.dtype == torch.bool:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=dropout_p, scale=scale)
    weights = (torch.matmul(q * scale, k.transpose(-2, -1)) + bias).softmax(-1)
    if dropout_p:
        weights = F.dropout(weights, dropout_p)
    return torch.matmul(weights, v)
