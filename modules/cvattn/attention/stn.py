"""Spatial transformer of "Spatial Transformer Networks".

Paper: "Spatial Transformer Networks", Max Jaderberg, Karen Simonyan, Andrew Zisserman, Koray Kavukcuoglu,
NeurIPS 2015, https://proceedings.neurips.cc/paper/2015/hash/33ceb07bf4eeb3da587e268d663aba1a-Abstract.html
(arXiv: https://arxiv.org/abs/1506.02025). No official code was released with the paper; this module follows
its equations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .._registry import register
from ..layers import LayerType, check_input, create_act

TRANSFORMS = {"affine": 6, "attention": 3}


@register("stn", kind="attention", inputs=(16, 14, 14), channels=16)
class SpatialTransformer(nn.Module):
    """Spatial transformer: a localisation net predicts a transform, and the map is resampled through it.

    A localisation network regresses the parameters ``theta`` of a transform from the input ``U``; the
    grid generator maps every target position ``(x_t, y_t)`` (normalised so that ``-1 <= x, y <= 1``
    from the first to the last pixel centre) to a source position ``(x_s, y_s) = A_theta (x_t, y_t, 1)``;
    the sampler reads ``V_i = sum_{n,m} U_nm max(0, 1 - |x_s - m|) max(0, 1 - |y_s - n|)`` per channel
    (bilinear kernel, zero outside the map). ``affine`` predicts the six entries of ``A_theta``;
    ``attention`` predicts ``(s, t_x, t_y)`` for ``A_theta = [[s, 0, t_x], [0, s, t_y]]`` (crop, zoom and
    translation). The regression layer starts at zero weights and the identity as bias, so an untrained
    transformer passes the map through unchanged. Memory grows with ``H*W`` (a grid of ``2*H*W``
    coordinates and the resampled map).

    Args:
        channels: channels ``C`` of the input (the transform is shared by all channels).
        transform: ``"affine"`` (the paper's Aff) or ``"attention"`` (isotropic scale and translation).
        pool_size: the localisation net sees the input average-pooled to ``pool_size x pool_size``.
        hidden: width of an optional fully connected hidden layer of the localisation net (none).
        act_layer: activation of the hidden layer (ReLU).

    Shape:
        - Input: ``(N, C, H, W)``
        - Output: ``(N, C, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> st = cvattn.create("stn", channels=16)
        >>> x = torch.randn(2, 16, 14, 14)
        >>> st(x).shape
        torch.Size([2, 16, 14, 14])
        >>> torch.allclose(st(x), x, atol=1e-5)  # identity at initialisation
        True

    Deviations:
        No official code was released; the grid generator and the bilinear sampler follow the paper's
        equations (``F.affine_grid`` and ``F.grid_sample`` with ``align_corners=True``). The paper leaves
        the localisation network free (each experiment uses its own fully connected or convolutional net
        on the full image); here it is a linear regressor, with an optional hidden layer, on an adaptively
        pooled ``pool_size x pool_size`` summary, so that one module takes any map size.
        The output grid has the input's size. With a hidden layer and the identity initialisation, the
        hidden layer gets no gradient until the regression weights move away from zero.

    Reference:
        Jaderberg, Simonyan, Zisserman, Kavukcuoglu. Spatial Transformer Networks. NeurIPS 2015.
    """

    def __init__(
        self,
        channels: int,
        transform: str = "affine",
        pool_size: int = 4,
        hidden: int | None = None,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        if transform not in TRANSFORMS:
            raise ValueError(f"transform must be one of {tuple(TRANSFORMS)}, got {transform!r}")
        if channels < 1 or pool_size < 1 or (hidden is not None and hidden < 1):
            raise ValueError(
                f"channels ({channels}), pool_size ({pool_size}) and hidden ({hidden}) must be positive"
            )
        self.channels, self.transform, self.pool_size = channels, transform, pool_size
        features = channels * pool_size * pool_size
        if hidden is None:
            self.hidden = nn.Identity()
        else:
            self.hidden = nn.Sequential(nn.Linear(features, hidden), create_act(act_layer, inplace=True))
            features = hidden
        self.regress = nn.Linear(features, TRANSFORMS[transform])  # the localisation net's regression layer
        identity = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0] if transform == "affine" else [1.0, 0.0, 0.0]
        with torch.no_grad():
            self.regress.weight.zero_()
            self.regress.bias.copy_(torch.tensor(identity))

    def theta(self, x: torch.Tensor) -> torch.Tensor:
        """The transform ``A_theta`` predicted for each sample, ``(N, 2, 3)``."""
        check_input(x, self.channels)
        z = F.adaptive_avg_pool2d(x, self.pool_size).flatten(1)  # (N, C * p * p)
        params = self.regress(self.hidden(z))  # (N, 6) or (N, 3)
        if self.transform == "affine":
            return params.view(-1, 2, 3)
        s, tx, ty = params.unbind(1)
        zero = torch.zeros_like(s)
        return torch.stack([s, zero, tx, zero, s, ty], 1).view(-1, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.theta(x)  # (N, 2, 3)
        grid = F.affine_grid(
            a.to(x.dtype), x.shape, align_corners=True
        )  # (x_s, y_s) per target: (N, H, W, 2)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
