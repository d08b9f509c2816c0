"""Swish activation.

Paper: "Searching for Activation Functions", Prajit Ramachandran, Barret Zoph, Quoc V. Le, ICLR 2018
Workshop (arXiv 2017), https://arxiv.org/abs/1710.05941. No official repository; TensorFlow ships the
function as ``tf.nn.swish`` (``tf.nn.silu``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register


@register("swish", kind="activation", inputs=(64, 14, 14), checks_input=False, trainable=True)
class Swish(nn.Module):
    """Swish: ``f(x) = x * sigmoid(beta * x)``, with a constant or trainable ``beta``.

    Found by the paper's automated search over scalar functions. ``beta = 1`` gives the SiLU
    ("Swish-1"); ``beta = 0`` gives the linear ``x / 2``; ``beta -> inf`` approaches ReLU, so a trainable
    ``beta`` lets the network interpolate between a linear function and ReLU. With ``trainable=True`` the
    module learns one ``beta`` (or one per channel when ``channels`` is given), initialised to ``beta``.
    The registry's default configuration is the paper's "Swish" (one trainable ``beta``); the class
    default is the constant "Swish-1".

    Args:
        beta: the value of ``beta`` (constant), or its initial value (trainable). Default 1.
        trainable: learn ``beta`` by back-propagation, as the paper's "Swish" (vs. "Swish-1").
        channels: with ``trainable``, learn one ``beta`` per channel of an ``(N, C, H, W)`` input
            instead of a single scalar.

    Shape:
        - Input: any shape (``(N, channels, H, W)`` when ``channels`` is given)
        - Output: same shape as the input

    Examples:
        >>> import torch, cvattn
        >>> act = cvattn.create("swish", trainable=True, channels=64)
        >>> act(torch.randn(2, 64, 14, 14)).shape
        torch.Size([2, 64, 14, 14])

    Reference:
        Ramachandran, Zoph, Le. Searching for Activation Functions. ICLR 2018 Workshop (arXiv:1710.05941).
    """

    def __init__(self, beta: float = 1.0, trainable: bool = False, channels: int | None = None) -> None:
        super().__init__()
        if channels is not None and not trainable:
            raise ValueError("Swish: a per-channel beta (channels=...) needs trainable=True")
        self.trainable = trainable
        if trainable:
            shape = (channels, 1, 1) if channels is not None else ()
            self.beta = nn.Parameter(torch.full(shape, float(beta)))
        else:
            self.beta = float(beta)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.trainable and self.beta == 1.0:
            return F.silu(x)  # Swish-1, one fused kernel
        return x * torch.sigmoid(self.beta * x)

    def extra_repr(self) -> str:
        return f"beta={self.beta}" if not self.trainable else f"trainable beta{tuple(self.beta.shape)}"
