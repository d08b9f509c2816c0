import pytest
import torch
import torch.nn.functional as F

import cvattn


@pytest.mark.parametrize("style", ["lp", "pl"])
@pytest.mark.parametrize("dyscope", [False, True])
def test_parameter_count_closed_form(style, dyscope):
    c, s, g = 64, 2, 4
    m = cvattn.create("dysample", channels=c, scale_factor=s, style=style, groups=g, dyscope=dyscope)
    cin, cout = (c // (s * s), 2 * g) if style == "pl" else (c, 2 * g * s * s)
    expected = cin * cout + cout + (cin * cout if dyscope else 0)
    assert sum(p.numel() for p in m.parameters()) == expected


@pytest.mark.parametrize("style", ["lp", "pl"])
def test_zero_offsets_are_bilinear_upsampling(style):
    m = cvattn.create("dysample", channels=16, style=style).double()
    with torch.no_grad():
        m.offset.weight.zero_()
    x = torch.randn(2, 16, 5, 6, dtype=torch.float64)
    want = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    torch.testing.assert_close(m(x), want)


def _bilinear_border(img, px, py):
    """img (C, H, W) at pixel coordinates (px, py), coordinates clamped to the map (border padding)."""
    _, h, w = img.shape
    px = min(max(px, 0.0), w - 1.0)
    py = min(max(py, 0.0), h - 1.0)
    x0, y0 = int(px), int(py)
    x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
    lx, ly = px - x0, py - y0
    return (
        (1 - ly) * (1 - lx) * img[:, y0, x0]
        + (1 - ly) * lx * img[:, y0, x1]
        + ly * (1 - lx) * img[:, y1, x0]
        + ly * lx * img[:, y1, x1]
    )


@pytest.mark.parametrize("s,g", [(2, 4), (3, 2)])
def test_lp_matches_pointwise_sampling(s, g):
    torch.manual_seed(0)
    c = 8
    m = cvattn.create("dysample", channels=c, scale_factor=s, groups=g).double()
    with torch.no_grad():
        m.offset.weight.normal_(0, 1.0)  # offsets of about a pixel, some past the border
    x = torch.randn(1, c, 4, 5, dtype=torch.float64)
    with torch.no_grad():
        raw = m.offset(x)[0]  # (2*G*s*s, H, W), channel ((xy * G + g) * s + a) * s + b
        out = m(x)
    _, _, h, w = x.shape
    for big_i in range(h * s):
        for big_j in range(w * s):
            i, j, a, b = big_i // s, big_j // s, big_i % s, big_j % s
            for grp in range(g):
                dx = 0.25 * raw[((0 * g + grp) * s + a) * s + b, i, j] + (b - (s - 1) / 2) / s
                dy = 0.25 * raw[((1 * g + grp) * s + a) * s + b, i, j] + (a - (s - 1) / 2) / s
                # pixel (j, i) has its centre at (j + 0.5, i + 0.5); grid_sample's pixel index is that - 0.5
                px, py = float(j + dx), float(i + dy)
                chans = slice(grp * c // g, (grp + 1) * c // g)
                want = _bilinear_border(x[0, chans], px, py)
                torch.testing.assert_close(out[0, chans, big_i, big_j], want)


def test_bad_configurations_raise():
    with pytest.raises(ValueError, match="groups"):
        cvattn.create("dysample", channels=10)
    with pytest.raises(ValueError, match="style"):
        cvattn.create("dysample", channels=16, style="xx")
    with pytest.raises(ValueError, match="scale_factor"):
        cvattn.create("dysample", channels=18, style="pl", groups=2)
