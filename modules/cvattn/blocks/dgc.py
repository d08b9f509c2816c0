"""Dynamic group convolution.

Paper: "Dynamic Group Convolution for Accelerating Convolutional Neural Networks", Zhuo Su, Linpu Fang,
Wenxiong Kang, Dewen Hu, Matti Pietikäinen, Li Liu, ECCV 2020, https://arxiv.org/abs/2007.04242.
Official code: https://github.com/zhuogege1943/dgc (``layers.py``, ``DynamicMultiHeadConv`` and ``HeadConv``).
"""

from __future__ import annotations

import torch
from torch import nn

from .._registry import register
from ..layers import LayerType, check_divisible, check_input, create_act


def keep_salient(g: torch.Tensor, inactive_channels: int) -> torch.Tensor:
    """Zero, per sample, the ``inactive_channels`` smallest saliencies of ``g`` ``(N, C)`` (and any tied with
    them); the rest keep their value. The selection itself passes no gradient."""
    if inactive_channels == 0:
        return g
    g_d = g.detach()
    threshold = g_d.topk(inactive_channels, dim=1, largest=False).values.amax(1, keepdim=True)  # (N, 1)
    return g.masked_fill(g_d <= threshold, 0.0)


class DGCSaliencyGenerator(nn.Module):
    """One head's saliency generator: ``g = ReLU(FC2(ReLU(FC1(z))))`` on the pooled input ``z``."""

    def __init__(self, channels: int, hidden: int, act_layer: LayerType) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden, bias=False)
        self.act = create_act(act_layer)
        self.fc2 = nn.Linear(hidden, channels)
        nn.init.kaiming_normal_(self.fc1.weight)
        nn.init.kaiming_normal_(self.fc2.weight)
        nn.init.constant_(self.fc2.bias, 1.0)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.fc2(self.act(self.fc1(z))))


@register(
    "dgc",
    kind="block",
    inputs=(64, 16, 16),
    in_channels=64,
    out_channels=64,
    kernel_size=3,
)
class DynamicGroupConv(nn.Module):
    """DGC: a convolution split into heads, each convolving only the input channels it finds salient for the
    current sample.

    The input is first normalised and activated (``x = ReLU(BN(x))``, the pre-activation of the official
    layer) and pooled, ``z = GAP(x)``. Each of the ``heads`` heads has a saliency generator
    ``g = ReLU(FC2(ReLU(FC1(z))))`` that scores all ``C_in`` channels; the ``C_in * (1 - gate_factor)``
    lowest-scoring channels are set to zero and the rest are scaled by their saliency, ``x_h = x * g_h``
    (the "unbiased" gating: unselected channels get no gradient). Head ``h`` convolves ``x_h`` with its own
    ``C_out / heads`` filters; all heads run as one grouped convolution over the concatenated ``x_h`` and
    their outputs are interleaved (output channel ``j * heads + h`` is filter ``j`` of head ``h``), as in the
    official code. This is the training-time form: the skipped channels are multiplied by zero, not removed.

    How many channels are dropped is the attribute ``inactive_channels``, the final
    ``round(C_in * (1 - gate_factor))`` by default; :meth:`set_progress` applies the official schedule that
    raises it gradually during training.

    Args:
        in_channels: input channels ``C_in`` (divisible by ``heads``).
        out_channels: output channels ``C_out`` (divisible by ``heads``).
        kernel_size: kernel size.
        stride: stride.
        padding: padding.
        dilation: dilation.
        bias: give the convolution a bias (none in the official layer).
        heads: number of heads (dynamic groups), 4.
        reduction: squeeze rate of the saliency generators (16): their hidden width is
            ``C_in // reduction``, with the rate halved when ``C_in < 80``, as official.
        gate_factor: fraction of the input channels each head keeps (0.25, a pruning rate of 0.75).
        norm_layer: normalisation of the input before the heads (BatchNorm2d; ``None`` for none).
        act_layer: activation of the input after the normalisation, and inside the saliency generators (ReLU).
        return_lasso: also return the official lasso term, the sum over heads of the mean saliency (before
            selection), which the official training adds to the loss with weight ``1e-5``.

    Shape:
        - Input: ``(N, C_in, H, W)``
        - Output: ``(N, C_out, H', W')`` as ``nn.Conv2d`` with the same arguments (and a scalar with
          ``return_lasso``).

    Examples:
        >>> import torch, cvattn
        >>> dgc = cvattn.create("dgc", in_channels=64, out_channels=128, kernel_size=3, padding=1)
        >>> dgc.inactive_channels  # per sample, each head drops 48 of the 64 input channels
        48
        >>> dgc(torch.randn(2, 64, 16, 16)).shape
        torch.Size([2, 128, 16, 16])

    Deviations:
        The official layer reads the training progress from a class-wide variable and keeps
        ``inactive_channels`` in a buffer that starts at 0; here it is a plain attribute that starts at the
        final value (what a fully trained model uses) and :meth:`set_progress` sets it per module (0 up to
        1/12 of training). The official layer returns ``[out, lasso]``; here only ``out`` unless
        ``return_lasso``. The hidden width of the saliency generators is at least 1. ``bias`` is an addition.

    Reference:
        Su, Fang, Kang, Hu, Pietikäinen, Liu. Dynamic Group Convolution for Accelerating Convolutional Neural
        Networks. ECCV 2020.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = False,
        heads: int = 4,
        reduction: int = 16,
        gate_factor: float = 0.25,
        norm_layer: LayerType = nn.BatchNorm2d,
        act_layer: LayerType = nn.ReLU,
        return_lasso: bool = False,
    ) -> None:
        super().__init__()
        check_divisible(in_channels, out_channels, heads, "heads")
        if not 0.0 < gate_factor <= 1.0:
            raise ValueError(f"gate_factor must be in (0, 1], got {gate_factor}")
        self.in_channels, self.out_channels, self.heads = in_channels, out_channels, heads
        self.gate_factor, self.return_lasso = gate_factor, return_lasso
        self.inactive_channels = round(in_channels * (1 - gate_factor))
        squeeze = reduction // 2 if in_channels < 80 else reduction
        hidden = max(1, in_channels // max(1, squeeze))
        self.norm = norm_layer(in_channels) if norm_layer is not None else nn.Identity()
        self.act = create_act(act_layer)
        self.saliency = nn.ModuleList(
            DGCSaliencyGenerator(in_channels, hidden, act_layer) for _ in range(heads)
        )
        # the heads' filters side by side: weight (C_out, C_in, k, k), head h owns rows h*C_out/heads onwards
        self.conv = nn.Conv2d(
            heads * in_channels, out_channels, kernel_size, stride, padding, dilation, groups=heads, bias=bias
        )

    def set_progress(self, progress: float) -> None:
        """Set ``inactive_channels`` for the fraction ``progress`` of training done, by the official schedule:
        none before 1/12, then a linear rise to ``round(C_in * (1 - gate_factor))`` at 3/4."""
        final = self.in_channels * (1 - self.gate_factor)
        if progress >= 3 / 4:
            self.inactive_channels = round(final)
        elif progress > 1 / 12:
            self.inactive_channels = round(final * 3 / 2 * (progress - 1 / 12))
        else:
            self.inactive_channels = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        check_input(x, self.in_channels)
        x = self.act(self.norm(x))
        z = x.mean((2, 3))  # (N, C_in)
        x_heads, lasso = [], 0.0
        for generator in self.saliency:
            g = generator(z)  # saliency: (N, C_in)
            lasso = lasso + g.mean()
            g = keep_salient(g, self.inactive_channels)
            x_heads.append(x * g[:, :, None, None])  # (N, C_in, H, W)
        y = self.conv(torch.cat(x_heads, 1))  # heads in order: (N, C_out, H', W')
        y = y.unflatten(1, (self.heads, -1)).transpose(1, 2).flatten(1, 2)  # interleave the heads' outputs
        return (y, lasso) if self.return_lasso else y
