"""Attention proposal network (APN) and attention crop/zoom of RA-CNN.

Paper: "Look Closer to See Better: Recurrent Attention Convolutional Neural Network for Fine-grained Image
Recognition", Jianlong Fu, Heliang Zheng, Tao Mei, CVPR 2017,
https://openaccess.thecvf.com/content_cvpr_2017/html/Fu_Look_Closer_to_CVPR_2017_paper.html.
Official code (Caffe, models and deploy files only): https://github.com/Jianlong-Fu/Recurrent-Attention-CNN;
the paper's Sec. 3.2 (Eq. 2-5) is the reference for the crop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@fx.wrap
def _boxcar_crop_zoom(image: torch.Tensor, box: torch.Tensor, out_size: int, k: float) -> torch.Tensor:
    """Mask ``image`` with the boxcar of Eq. 3 around ``box = (tx, ty, tl)`` and zoom the box to ``out_size``."""
    n, h, w = image.size(0), image.shape[2], image.shape[3]
    tx, ty, tl = box[:, 0, None], box[:, 1, None], box[:, 2, None]  # (N, 1) each, in pixels
    xs = torch.arange(w, device=image.device, dtype=box.dtype) + 0.5  # pixel centres
    ys = torch.arange(h, device=image.device, dtype=box.dtype) + 0.5
    mx = torch.sigmoid(k * (xs - (tx - tl))) - torch.sigmoid(k * (xs - (tx + tl)))  # (N, W)
    my = torch.sigmoid(k * (ys - (ty - tl))) - torch.sigmoid(k * (ys - (ty + tl)))  # (N, H)
    attended = image * (my[:, None, :, None] * mx[:, None, None, :]).to(image.dtype)  # X ⊙ M
    zeros = torch.zeros_like(tl)
    theta = torch.cat([2 * tl / w, zeros, 2 * tx / w - 1, zeros, 2 * tl / h, 2 * ty / h - 1], dim=1).reshape(
        n, 2, 3
    )  # box [tx - tl, tx + tl] x [ty - tl, ty + tl] in normalised coordinates
    grid = F.affine_grid(theta, [n, image.size(1), out_size, out_size], align_corners=False)
    return F.grid_sample(attended, grid.to(image.dtype), mode="bilinear", align_corners=False)


@register(
    "ra-cnn",
    kind="block",
    outputs=2,
    inputs=((64, 7, 7), (3, 56, 56)),
    in_channels=64,
    feature_size=7,
    hidden_channels=128,
    out_size=56,
)
class RACNNAttentionProposal(nn.Module):
    """RA-CNN attention proposal network: predicts a square region and crops and zooms it, differentiably.

    The APN maps the convolutional features of the current scale through two fully connected layers
    (tanh, then sigmoid) to ``(tx, ty, tl)``: the centre and half side of a square in the image. The
    region is cut out with the boxcar mask of Eq. 3, ``M = [h(x - t_x(tl)) - h(x - t_x(br))] *
    [h(y - t_y(tl)) - h(y - t_y(br))]`` with the logistic ``h(z) = 1 / (1 + exp(-k z))``, so the box
    receives gradients, and the masked image ``X ⊙ M`` inside the box is enlarged to ``out_size`` by
    bilinear interpolation (Eq. 4-5), the input of the next, finer scale.

    Args:
        in_channels: channels of the features the APN reads (VGG-19 conv5_4: 512).
        feature_size: the features are average-pooled to ``feature_size x feature_size`` before the first
            fully connected layer (official: conv5_4 is 14 x 14 for a 224 input, pooled only if needed).
        hidden_channels: width of the first fully connected layer (paper: 1024).
        out_size: side of the zoomed region (paper: 224, the input size of every scale).
        min_side: smallest box side as a fraction of the image's shorter side (paper: 1/3).
        k: steepness of the logistic boxcar (paper: 10).
        act_layer: activation after the first fully connected layer (tanh).

    Shape:
        - Input: features ``(N, C, h, w)`` and image ``(N, C_img, H, W)``
        - Output: zoomed region ``(N, C_img, out_size, out_size)`` and box ``(N, 3)`` = ``(tx, ty, tl)``
          in pixels of the image.

    Examples:
        >>> import torch, cvattn
        >>> apn = cvattn.create("ra-cnn", in_channels=64, feature_size=7, hidden_channels=128, out_size=56)
        >>> zoomed, box = apn(torch.randn(2, 64, 7, 7), torch.randn(2, 3, 56, 56))
        >>> zoomed.shape, box.shape
        (torch.Size([2, 3, 56, 56]), torch.Size([2, 3]))

    Deviations:
        The box is parametrised so its constraints hold smoothly: ``tx = W s_x``, ``ty = H s_y``,
        ``tl = S (min_side + (1 - min_side) s_l) / 2`` with ``s = sigmoid(.)`` and ``S`` the shorter
        side; the paper clips instead. The crop and zoom use ``grid_sample`` (autograd gives the
        gradient to the box through the mask and the sampling grid; the paper derives the mask part only).

    Reference:
        Fu, Zheng, Mei. Look Closer to See Better: Recurrent Attention Convolutional Neural Network for
        Fine-grained Image Recognition. CVPR 2017.
    """

    def __init__(
        self,
        in_channels: int,
        feature_size: int = 14,
        hidden_channels: int = 1024,
        out_size: int = 224,
        min_side: float = 1 / 3,
        k: float = 10.0,
        act_layer: LayerType = nn.Tanh,
    ) -> None:
        super().__init__()
        self.in_channels, self.out_size, self.min_side, self.k = in_channels, out_size, min_side, k
        self.pool = nn.AdaptiveAvgPool2d(feature_size)
        self.fc1 = nn.Linear(in_channels * feature_size * feature_size, hidden_channels)
        self.act = create_act(act_layer)
        self.fc2 = nn.Linear(hidden_channels, 3)

    def forward(self, x: torch.Tensor, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_input(x, self.in_channels)
        check_input(image, name="image")
        s = torch.sigmoid(self.fc2(self.act(self.fc1(self.pool(x).flatten(1))))).float()  # (N, 3)
        h, w = image.shape[2], image.shape[3]
        side = torch.minimum(torch.full_like(s[:, 2], h), torch.full_like(s[:, 2], w))
        tl = side * (self.min_side + (1 - self.min_side) * s[:, 2]) / 2
        box = torch.stack([s[:, 0] * w, s[:, 1] * h, tl], dim=1)  # (tx, ty, tl) in pixels
        return _boxcar_crop_zoom(image, box, self.out_size, self.k), box
