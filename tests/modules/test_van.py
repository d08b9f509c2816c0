import torch
import torch.nn.functional as F

import cvattn


def _lka_count(c):
    # 5x5 depthwise + 7x7 dilated depthwise + 1x1, each with bias
    return (25 * c + c) + (49 * c + c) + (c * c + c)


def test_parameter_count_closed_form():
    for c in (64, 24):
        lka = cvattn.create("van", channels=c)
        assert sum(p.numel() for p in lka.parameters()) == _lka_count(c) == c * c + 77 * c
        attn = cvattn.create("van-attention", channels=c)
        assert sum(p.numel() for p in attn.parameters()) == 2 * (c * c + c) + _lka_count(c)


def _depthwise(x, weight, bias, dilation):
    """Zero-padded 'same' depthwise convolution as a sum of shifted copies, one per kernel tap."""
    kh, kw = weight.shape[-2:]
    ph, pw = dilation * (kh - 1) // 2, dilation * (kw - 1) // 2
    xp = F.pad(x, (pw, pw, ph, ph))
    h, w = x.shape[-2:]
    out = torch.zeros_like(x) + bias[None, :, None, None]
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i * dilation : i * dilation + h, j * dilation : j * dilation + w]
            out = out + weight[None, :, 0, i, j, None, None] * patch
    return out


def _pointwise(x, conv):
    return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]


def _lka_reference(m, x):
    attn = _depthwise(x, m.conv0.weight, m.conv0.bias, 1)
    attn = _depthwise(attn, m.conv_spatial.weight, m.conv_spatial.bias, 3)
    return _pointwise(attn, m.conv1) * x


def test_lka_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("van", channels=6).double().eval()
    x = torch.randn(2, 6, 9, 13, dtype=torch.float64)
    torch.testing.assert_close(m(x), _lka_reference(m, x))


def test_attention_matches_reference():
    torch.manual_seed(1)
    m = cvattn.create("van-attention", channels=5).double().eval()
    x = torch.randn(2, 5, 11, 7, dtype=torch.float64)
    u = F.gelu(_pointwise(x, m.proj_1))
    expected = _pointwise(_lka_reference(m.spatial_gating_unit, u), m.proj_2) + x
    torch.testing.assert_close(m(x), expected)


def test_receptive_field_is_23():
    # an impulse at the centre reaches exactly the 23 x 23 window around it (5x5, then 7x7 with dilation 3)
    m = cvattn.create("van", channels=1).double().eval()
    with torch.no_grad():
        for conv in (m.conv0, m.conv_spatial, m.conv1):
            conv.weight.fill_(1.0)
            conv.bias.zero_()
    x = torch.zeros(1, 1, 41, 41, dtype=torch.float64, requires_grad=True)
    m(x + 1.0)[0, 0, 20, 20].backward()
    reached = x.grad[0, 0] != 0
    assert reached.sum() == 23 * 23 and reached[9:32, 9:32].all()
