import pytest
import torch

import cvattn


def _count(c, g):
    k = c // g
    return 2 * k + (k * k + k) + (9 * k * k + k)  # GroupNorm affine, 1x1 conv, 3x3 conv (with biases)


def test_parameter_count_closed_form():
    for c, g in ((64, 32), (48, 4)):
        m = cvattn.create("ema", channels=c, factor=g)
        assert sum(p.numel() for p in m.parameters()) == _count(c, g)


def _softmax(z, dim):
    e = torch.exp(z - z.amax(dim, keepdim=True))
    return e / e.sum(dim, keepdim=True)


def _sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def _reference(m, x):
    n, c, h, w = x.shape
    g, k = m.groups, c // m.groups
    xg = x.reshape(n, g, k, h, w)
    w1, b1 = m.conv1x1.weight[:, :, 0, 0], m.conv1x1.bias
    a_h = _sigmoid(torch.einsum("oc,ngch->ngoh", w1, xg.mean(4)) + b1[:, None])  # (n, g, k, h)
    a_w = _sigmoid(torch.einsum("oc,ngcw->ngow", w1, xg.mean(3)) + b1[:, None])  # (n, g, k, w)
    z = xg * a_h[..., None] * a_w[..., None, :]
    mu = z.mean((3, 4), keepdim=True)
    var = z.var((3, 4), unbiased=False, keepdim=True)
    x1 = (z - mu) / torch.sqrt(var + m.gn.eps) * m.gn.weight[:, None, None] + m.gn.bias[:, None, None]
    # 3x3 conv, zero padding 1, written as a sum over the nine shifts
    pad = torch.nn.functional.pad(xg.reshape(n * g, k, h, w), (1, 1, 1, 1)).reshape(n, g, k, h + 2, w + 2)
    x2 = m.conv3x3.bias[:, None, None].expand(n, g, k, h, w).clone()
    for i in range(3):
        for j in range(3):
            x2 = x2 + torch.einsum(
                "oc,ngchw->ngohw", m.conv3x3.weight[:, :, i, j], pad[..., i : i + h, j : j + w]
            )
    s1 = _softmax(x1.mean((3, 4)), 2)
    s2 = _softmax(x2.mean((3, 4)), 2)
    weights = torch.einsum("ngc,ngchw->nghw", s1, x2) + torch.einsum("ngc,ngchw->nghw", s2, x1)
    return (xg * _sigmoid(weights)[:, :, None]).reshape(n, c, h, w)


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("ema", channels=24, factor=4).double().eval()
    with torch.no_grad():  # random affine GroupNorm so that its parameters matter
        m.gn.weight.uniform_(0.5, 1.5)
        m.gn.bias.normal_(0, 0.2)
    x = torch.randn(2, 24, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_groups_are_independent():
    # the groups share weights but not data: changing one group leaves the others' outputs unchanged
    torch.manual_seed(0)
    m = cvattn.create("ema", channels=16, factor=4).double().eval()
    x = torch.randn(1, 16, 6, 6, dtype=torch.float64)
    y = x.clone()
    y[:, :4] = torch.randn(1, 4, 6, 6, dtype=torch.float64)
    a, b = m(x), m(y)
    torch.testing.assert_close(a[:, 4:], b[:, 4:])
    assert not torch.allclose(a[:, :4], b[:, :4])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("ema", channels=48, factor=32)
