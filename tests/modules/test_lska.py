import pytest
import torch
import torch.nn.functional as F

import cvattn

# kernel size -> (depthwise length a, dilated length b, dilation d), from the official LSKA class
TABLE = {7: (3, 3, 2), 11: (3, 5, 2), 23: (5, 7, 3), 35: (5, 11, 3), 41: (5, 13, 3), 53: (5, 17, 3)}


def _count(c, k):
    a, b, _ = TABLE[k]
    return 2 * (a * c + c) + 2 * (b * c + c) + c * c + c  # four 1-D depthwise convs and a 1x1, with biases


def test_parameter_count_closed_form():
    for c, k in [(64, 7), (16, 23), (8, 53)]:
        m = cvattn.create("lska", channels=c, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == _count(c, k)
    assert _count(64, 7) == 64 * 64 + 17 * 64


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


@pytest.mark.parametrize("k", [7, 23])
def test_matches_reference(k):
    torch.manual_seed(k)
    m = cvattn.create("lska", channels=5, kernel_size=k).double().eval()
    x = torch.randn(2, 5, 9, 12, dtype=torch.float64)
    d = TABLE[k][2]
    a = _depthwise(_depthwise(x, m.conv0h.weight, m.conv0h.bias, 1), m.conv0v.weight, m.conv0v.bias, 1)
    a = _depthwise(a, m.conv_spatial_h.weight, m.conv_spatial_h.bias, d)
    a = _depthwise(a, m.conv_spatial_v.weight, m.conv_spatial_v.bias, d)
    attn = torch.einsum("oc,nchw->nohw", m.conv1.weight[:, :, 0, 0], a) + m.conv1.bias[None, :, None, None]
    torch.testing.assert_close(m(x), attn * x)


def test_separable_kernels_equal_lka_with_rank_one_kernels():
    # with outer-product 2-D kernels, VAN-style LKA (2-D depthwise kernels) gives the same output as LSKA
    torch.manual_seed(3)
    m = cvattn.create("lska", channels=4, kernel_size=23).double().eval()
    with torch.no_grad():
        for conv in (m.conv0h, m.conv_spatial_h):
            conv.bias.zero_()
    x = torch.randn(1, 4, 10, 11, dtype=torch.float64)
    k0 = m.conv0v.weight[:, :, :, 0:1] * m.conv0h.weight  # (C, 1, 5, 5)
    ks = m.conv_spatial_v.weight[:, :, :, 0:1] * m.conv_spatial_h.weight  # (C, 1, 7, 7)
    attn = _depthwise(x, k0, m.conv0v.bias, 1)
    attn = _depthwise(attn, ks, m.conv_spatial_v.bias, 3)
    attn = torch.einsum("oc,nchw->nohw", m.conv1.weight[:, :, 0, 0], attn) + m.conv1.bias[None, :, None, None]
    torch.testing.assert_close(m(x), attn * x)


def test_bad_kernel_size_raises():
    with pytest.raises(ValueError, match="kernel_size"):
        cvattn.create("lska", channels=8, kernel_size=9)
