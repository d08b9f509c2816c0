import math

import torch

import cvattn
from cvattn.attention.ra_cnn import _boxcar_crop_zoom


def test_parameter_count_closed_form():
    for c, f, hid in [(64, 7, 128), (128, 14, 256)]:
        m = cvattn.create("ra-cnn", in_channels=c, feature_size=f, hidden_channels=hid)
        assert sum(p.numel() for p in m.parameters()) == c * f * f * hid + hid + hid * 3 + 3


def _bilinear(img, x, y):
    """Bilinear sample of (C, H, W) at continuous pixel-centre coordinates, zero outside."""
    h, w = img.shape[1:]
    x0, y0 = math.floor(x), math.floor(y)
    out = torch.zeros(img.shape[0], dtype=img.dtype)
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                out += wy * wx * img[:, yy, xx]
    return out


def test_crop_matches_loop_reference():
    torch.manual_seed(0)
    img = torch.randn(1, 2, 9, 11, dtype=torch.float64)
    tx, ty, tl, k, out = 5.3, 4.1, 2.7, 10.0, 5
    box = torch.tensor([[tx, ty, tl]], dtype=torch.float64)
    got = _boxcar_crop_zoom(img, box, out, k)[0]

    def h(z):
        return 1 / (1 + math.exp(-k * z))

    masked = img[0].clone()
    for i in range(9):
        for j in range(11):
            xc, yc = j + 0.5, i + 0.5
            mask = (h(xc - (tx - tl)) - h(xc - (tx + tl))) * (h(yc - (ty - tl)) - h(yc - (ty + tl)))
            masked[:, i, j] *= mask
    expected = torch.zeros(2, out, out, dtype=torch.float64)
    for a in range(out):
        for b in range(out):
            # output pixel centre -> continuous image coordinate inside [t - tl, t + tl], then to index space
            x = tx - tl + (b + 0.5) * 2 * tl / out - 0.5
            y = ty - tl + (a + 0.5) * 2 * tl / out - 0.5
            expected[:, a, b] = _bilinear(masked, x, y)
    torch.testing.assert_close(got, expected)


def test_box_constraints_and_gradient_to_box():
    m = cvattn.create("ra-cnn").train()
    feats, img = cvattn.example_input("ra-cnn")
    for bias in (-30.0, 30.0):
        torch.nn.init.constant_(m.fc2.bias, bias)
        _, box = m(feats, img)
        side = 56
        assert (box[:, 2] >= side / 6 - 1e-4).all() and (box[:, 2] <= side / 2 + 1e-4).all()
    torch.nn.init.zeros_(m.fc2.bias)
    zoomed, box = m(feats, img)
    zoomed.sum().backward()
    assert m.fc2.weight.grad.abs().sum() > 0
