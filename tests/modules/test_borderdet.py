import math

import torch

import cvattn
from cvattn.blocks.borderdet import _boxes_from_distances, border_align


def test_parameter_count_closed_form():
    for cin, cb in [(64, 32), (256, 128)]:
        m = cvattn.create("borderdet", in_channels=cin, border_channels=cb)
        expected = (cin * cb + cb) + (cin * 4 * cb + 4 * cb) + (5 * cb * cin + cin)
        assert sum(p.numel() for p in m.parameters()) == expected


def _bilinear(fm, x, y):
    """RoIAlign-style bilinear sample of (C, H, W) at (x, y) inside the map."""
    h, w = fm.shape[1:]
    x0, y0 = min(math.floor(x), w - 1), min(math.floor(y), h - 1)
    x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
    lx, ly = x - x0, y - y0
    return (
        (1 - ly) * (1 - lx) * fm[:, y0, x0]
        + (1 - ly) * lx * fm[:, y0, x1]
        + ly * (1 - lx) * fm[:, y1, x0]
        + ly * lx * fm[:, y1, x1]
    )


def test_border_align_matches_loop_reference():
    torch.manual_seed(0)
    c, h, w, p = 3, 5, 6, 4
    feats = torch.randn(1, 4 * c, h, w, dtype=torch.float64)
    ltrb = torch.rand(1, 4, h, w, dtype=torch.float64) * 3
    boxes = _boxes_from_distances(ltrb)
    got = border_align(feats, boxes, p)
    for i in range(h):
        for j in range(w):
            x1, y1, x2, y2 = boxes[0, :, i, j].tolist()
            assert x1 == max(0.0, j - ltrb[0, 0, i, j].item()) and y2 == min(
                h - 1.0, i + ltrb[0, 3, i, j].item()
            )
            sides = [
                [(x1 + (x2 - x1) * k / p, y1) for k in range(p + 1)],  # top
                [(x1, y1 + (y2 - y1) * k / p) for k in range(p + 1)],  # left
                [(x2 - (x2 - x1) * k / p, y2) for k in range(p + 1)],  # bottom
                [(x2, y2 - (y2 - y1) * k / p) for k in range(p + 1)],  # right
            ]
            for b, pts in enumerate(sides):
                fm = feats[0, b * c : (b + 1) * c]
                expected = torch.stack([_bilinear(fm, x, y) for x, y in pts]).amax(0)
                torch.testing.assert_close(got[0, b * c : (b + 1) * c, i, j], expected)


def test_zero_distances_sample_the_location_itself():
    m = cvattn.create("borderdet", in_channels=8, border_channels=4).eval()
    x = torch.randn(1, 8, 4, 5)
    feats = m.ltrb_conv(x)
    boxes = _boxes_from_distances(torch.zeros(1, 4, 4, 5))
    torch.testing.assert_close(border_align(feats, boxes, 10), feats)
