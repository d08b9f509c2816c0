"""Border alignment module of BorderDet, with border align written in PyTorch (``grid_sample``).

Paper: "BorderDet: Border Feature for Dense Object Detection", Han Qiu, Yuchen Ma, Zeming Li, Songtao Liu,
Jian Sun, ECCV 2020, https://arxiv.org/abs/2007.11056. Official code:
https://github.com/Megvii-BaseDetection/BorderDet (``playground/detection/coco/borderdet/*/borderdet.py``:
``BorderBranch``, ``BorderHead.compute_border``; the ``BorderAlign`` CUDA op lives in cvpods).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import fx, nn

from .._registry import register
from ..layers import LayerType, check_input, create_act


@fx.wrap
def _boxes_from_distances(ltrb: torch.Tensor) -> torch.Tensor:
    """Boxes ``(x1, y1, x2, y2)`` per location from ``(l, t, r, b)`` distances, clamped to the map: ``(N, 4, H, W)``."""
    h, w = ltrb.shape[2], ltrb.shape[3]
    ys = torch.arange(h, device=ltrb.device, dtype=ltrb.dtype).view(1, h, 1)
    xs = torch.arange(w, device=ltrb.device, dtype=ltrb.dtype).view(1, 1, w)
    x1 = (xs - ltrb[:, 0]).clamp(0, w - 1)
    y1 = (ys - ltrb[:, 1]).clamp(0, h - 1)
    x2 = (xs + ltrb[:, 2]).clamp(0, w - 1)
    y2 = (ys + ltrb[:, 3]).clamp(0, h - 1)
    return torch.stack([x1, y1, x2, y2], dim=1)


@fx.wrap
def border_align(features: torch.Tensor, boxes: torch.Tensor, pool_size: int) -> torch.Tensor:
    """Max of ``pool_size + 1`` bilinear samples along each border of each location's box.

    ``features``: ``(N, 4C, H, W)``, channel groups for the top, left, bottom and right border;
    ``boxes``: ``(N, 4, H, W)`` as ``(x1, y1, x2, y2)`` in feature-map pixels (inside the map).
    Returns ``(N, 4C, H, W)``, border-major like the official ``permute(0, 3, 1, 2)`` of the op's output.
    """
    n, h, w = features.size(0), features.shape[2], features.shape[3]
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]  # (N, H, W)
    t = torch.linspace(0, 1, pool_size + 1, device=boxes.device, dtype=boxes.dtype)  # (P,)
    t = t.view(1, 1, 1, -1)

    def line(xa, ya, xb, yb):  # points from (xa, ya) to (xb, yb): (N, H, W, P, 2)
        return torch.stack(
            [xa[..., None] + (xb - xa)[..., None] * t, ya[..., None] + (yb - ya)[..., None] * t], -1
        )

    points = torch.stack(
        [
            line(x1, y1, x2, y1),  # top: left to right
            line(x1, y1, x1, y2),  # left: top to bottom
            line(x2, y2, x1, y2),  # bottom: right to left
            line(x2, y2, x2, y1),  # right: bottom to top
        ],
        dim=1,
    )  # (N, 4, H, W, P, 2) in pixels
    scale = torch.tensor([max(w - 1, 1), max(h - 1, 1)], device=boxes.device, dtype=boxes.dtype)
    grid = (points / scale * 2 - 1).flatten(2, 3)  # normalised, align_corners=True: (N, 4, HW, P, 2)
    groups = features.reshape(n * 4, -1, h, w)  # (N*4, C, H, W)
    sampled = F.grid_sample(groups, grid.flatten(0, 1).to(groups.dtype), mode="bilinear", align_corners=True)
    return sampled.max(-1)[0].reshape(features.shape)  # max over the border points: (N, 4C, H, W)


@register("borderdet", kind="block", inputs=((64, 16, 16), (4, 16, 16)), in_channels=64, border_channels=32)
class BorderAlignModule(nn.Module):
    """BorderDet border alignment module: enriches each location with features pooled from its box's borders.

    From the first-stage prediction at every location (distances ``l, t, r, b`` to the box sides, in
    feature-map pixels) the box is formed and clamped to the map. A 1x1 conv-IN-ReLU expands the
    features to ``4 C_b`` channels, one group per border (top, left, bottom, right); border align
    takes, for each group, the maximum of ``pool_size + 1`` bilinear samples spread evenly along that
    border. The ``4 C_b`` border features are concatenated with the location's own features (another
    1x1 conv-IN-ReLU to ``C_b``) and mapped back to ``C_in`` by a 1x1 conv and ReLU.

    Args:
        in_channels: channels of the head features (BorderDet: 256).
        border_channels: ``C_b`` per border (BorderDet: 256 in the classification branch, 128 in the
            regression branch).
        pool_size: border align samples ``pool_size + 1`` points per border (BorderDet: 10).
        norm_layer: normalisation after the two input 1x1 convolutions (InstanceNorm2d, no affine).
        act_layer: activation (ReLU).

    Shape:
        - Input: features ``(N, C_in, H, W)``, distances ``(N, 4, H, W)`` (``l, t, r, b`` >= 0, in
          feature-map pixels: the FCOS regression divided by the stride)
        - Output: ``(N, C_in, H, W)``

    Examples:
        >>> import torch, cvattn
        >>> bam = cvattn.create("borderdet", in_channels=64, border_channels=32)
        >>> bam(torch.randn(2, 64, 16, 16), torch.rand(2, 4, 16, 16) * 4).shape
        torch.Size([2, 64, 16, 16])

    Deviations:
        Border align is written with ``grid_sample`` (``align_corners=True`` on clamped boxes equals the
        CUDA op's bilinear sampling) instead of the cvpods CUDA kernel; its gradient reaches the features
        only, and the boxes are detached, as the official head builds them under ``no_grad``.

    Reference:
        Qiu, Ma, Li, Liu, Sun. BorderDet: Border Feature for Dense Object Detection. ECCV 2020.
    """

    def __init__(
        self,
        in_channels: int,
        border_channels: int = 256,
        pool_size: int = 10,
        norm_layer: LayerType = nn.InstanceNorm2d,
        act_layer: LayerType = nn.ReLU,
    ) -> None:
        super().__init__()
        self.in_channels, self.pool_size = in_channels, pool_size
        self.cur_point_conv = nn.Sequential(
            nn.Conv2d(in_channels, border_channels, 1), norm_layer(border_channels), create_act(act_layer)
        )
        self.ltrb_conv = nn.Sequential(
            nn.Conv2d(in_channels, 4 * border_channels, 1),
            norm_layer(4 * border_channels),
            create_act(act_layer),
        )
        self.border_conv = nn.Sequential(
            nn.Conv2d(5 * border_channels, in_channels, 1), create_act(act_layer)
        )

    def forward(self, x: torch.Tensor, ltrb: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        check_input(ltrb, 4, name="ltrb")
        boxes = _boxes_from_distances(ltrb.detach().float())  # (N, 4, H, W)
        centre = self.cur_point_conv(x)  # (N, C_b, H, W)
        borders = border_align(self.ltrb_conv(x), boxes, self.pool_size)  # (N, 4 C_b, H, W)
        return self.border_conv(torch.cat([borders, centre], 1))
