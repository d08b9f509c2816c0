import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c):
    h = c // 2
    dw = (25 * c + c) + (49 * c + c)  # 5x5 and 7x7 depthwise convs with biases
    return dw + 2 * (c * h + h) + (2 * 2 * 49 + 2) + (h * c + c)  # two 1x1 projections, squeeze conv, 1x1 out


def test_parameter_count_closed_form():
    for c in (64, 37):
        m = cvattn.create("lsknet", channels=c)
        assert sum(p.numel() for p in m.parameters()) == _count(c)


def _conv(x, weight, bias, padding, dilation=1, depthwise=False):
    """A 'same' convolution written as a sum over kernel shifts (cross-correlation, zero padding)."""
    n, c, h, w = x.shape
    k = weight.shape[-1]
    xp = F.pad(x, (padding,) * 4)
    out = bias[None, :, None, None].expand(n, weight.shape[0], h, w).clone()
    for i in range(k):
        for j in range(k):
            patch = xp[..., i * dilation : i * dilation + h, j * dilation : j * dilation + w]
            if depthwise:
                out = out + weight[:, 0, i, j][None, :, None, None] * patch
            else:
                out = out + torch.einsum("oc,nchw->nohw", weight[:, :, i, j], patch)
    return out


def _reference(m, x):
    u1 = _conv(x, m.conv0.weight, m.conv0.bias, 2, depthwise=True)
    u2 = _conv(u1, m.conv_spatial.weight, m.conv_spatial.bias, 9, dilation=3, depthwise=True)
    u1 = _conv(u1, m.conv1.weight, m.conv1.bias, 0)
    u2 = _conv(u2, m.conv2.weight, m.conv2.bias, 0)
    u = torch.cat([u1, u2], 1)
    pooled = torch.stack([u.mean(1), u.max(1).values], 1)
    sa = 1 / (1 + torch.exp(-_conv(pooled, m.conv_squeeze.weight, m.conv_squeeze.bias, 3)))
    s = _conv(u1 * sa[:, 0:1] + u2 * sa[:, 1:2], m.conv.weight, m.conv.bias, 0)
    return x * s


def test_matches_reference_on_non_square_input():
    torch.manual_seed(0)
    m = cvattn.create("lsknet", channels=6).double().eval()
    x = torch.randn(2, 6, 9, 13, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_receptive_field_is_23():
    # U2 sees a 5x5 then a dilated 7x7 (extent 19) window: 23x23 around each pixel; the selection adds
    # the 7x7 squeeze conv, so the output at the centre depends on inputs up to 11 + 3 pixels away only
    torch.manual_seed(0)
    m = cvattn.create("lsknet", channels=4).double().eval()
    x = torch.randn(1, 4, 41, 41, dtype=torch.float64, requires_grad=True)
    m(x)[0, :, 20, 20].sum().backward()
    rows = x.grad[0].abs().sum((0, 2)).nonzero().flatten()
    assert rows.min() == 20 - 14 and rows.max() == 20 + 14


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        cvattn.create("lsknet", channels=1)
