import pytest
import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, s, k, g, ke, cm in [(64, 2, 5, 1, 3, 64), (12, 3, 3, 2, 5, 6)]:
        m = cvattn.create(
            "carafe",
            channels=c,
            scale_factor=s,
            up_kernel=k,
            up_group=g,
            encoder_kernel=ke,
            compressed_channels=cm,
        )
        out = k * k * g * s * s
        assert sum(p.numel() for p in m.parameters()) == (c * cm + cm) + (cm * out * ke * ke + out)


def _reference(m, x):
    """Pixel by pixel: out[c, i', j'] = sum_{u, v} W[i', j'](u, v) * x[c, i'//s + u - r, j'//s + v - r]."""
    n, c, h, w = x.shape
    s, k, g = m.scale_factor, m.up_kernel, m.up_group
    r = k // 2
    raw = m.content_encoder(
        m.channel_compressor(x)
    )  # (N, G*k*k*s*s, H, W), channel ((g*k*k + t)*s + a)*s + b
    out = torch.zeros(n, c, h * s, w * s, dtype=x.dtype)
    for b_ in range(n):
        for i2 in range(h * s):
            for j2 in range(w * s):
                i, j = i2 // s, j2 // s
                sub = (i2 % s) * s + (j2 % s)
                for ch in range(c):
                    grp = ch // (c // g)
                    logits = torch.stack(
                        [raw[b_, (grp * k * k + t) * s * s + sub, i, j] for t in range(k * k)]
                    )
                    weights = torch.softmax(logits, 0)
                    acc = torch.zeros((), dtype=x.dtype)
                    for u in range(k):
                        for v in range(k):
                            y0, x0 = i + u - r, j + v - r
                            if 0 <= y0 < h and 0 <= x0 < w:
                                acc = acc + weights[u * k + v] * x[b_, ch, y0, x0]
                    out[b_, ch, i2, j2] = acc
    return out


@pytest.mark.parametrize("s,k,g", [(2, 5, 1), (3, 3, 2)])
def test_matches_pixelwise_reference(s, k, g):
    torch.manual_seed(0)
    m = cvattn.create(
        "carafe", channels=4, scale_factor=s, up_kernel=k, up_group=g, compressed_channels=4
    ).double()
    with torch.no_grad():
        m.content_encoder.weight.normal_(0, 0.5)  # kernels far from uniform
    x = torch.randn(1, 4, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_initial_kernels_are_uniform_box_filters():
    torch.manual_seed(0)
    m = cvattn.create("carafe", channels=8, compressed_channels=8).double()
    with torch.no_grad():
        m.content_encoder.weight.zero_()
    x = torch.randn(2, 8, 6, 5, dtype=torch.float64)
    box = F.avg_pool2d(x, 5, 1, 2, count_include_pad=True)  # zeros outside, divided by 25
    torch.testing.assert_close(m(x), F.interpolate(box, scale_factor=2, mode="nearest"))


def test_even_kernel_is_refused():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("carafe", channels=8, up_kernel=4)
