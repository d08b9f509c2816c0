import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, r):
    h = c // r
    mlp = (c * h + h) + (h * c + c)
    depthwise = (25 * c + c) + sum(2 * (k * c + c) for k in (7, 11, 21))  # 5x5, then 1xk and kx1 pairs
    return (c * c + c) + mlp + depthwise  # the shared 1x1 conv counts once


def test_parameter_count_closed_form():
    for c, r in ((64, 4), (40, 8)):
        m = cvattn.create("cpca", channels=c, reduction=r)
        assert sum(p.numel() for p in m.parameters()) == _count(c, r)


def _dw(x, conv):
    """Depthwise 'same' cross-correlation as a sum over kernel offsets."""
    n, c, h, w = x.shape
    kh, kw = conv.weight.shape[-2:]
    xp = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2))
    out = conv.bias[None, :, None, None].expand(n, c, h, w).clone()
    for i in range(kh):
        for j in range(kw):
            out = out + conv.weight[None, :, 0, i, j, None, None] * xp[..., i : i + h, j : j + w]
    return out


def _pw(x, conv):
    return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]


def _reference(m, x):
    u = _pw(x, m.proj)
    u = 0.5 * u * (1 + torch.erf(u / 2**0.5))  # exact GELU

    def mlp(z):  # z: (N, C)
        hid = (z @ m.fc1.weight[:, :, 0, 0].T + m.fc1.bias).clamp_min(0)
        return 1 / (1 + torch.exp(-(hid @ m.fc2.weight[:, :, 0, 0].T + m.fc2.bias)))

    a = mlp(u.mean((2, 3))) + mlp(u.flatten(2).max(2).values)
    f = a[:, :, None, None] * u
    d = _dw(f, m.dw5x5)
    s = d + sum(_dw(_dw(d, strip[0]), strip[1]) for strip in m.strips)
    return _pw(_pw(s, m.proj) * f, m.proj)


def test_matches_reference_on_non_square_input():
    torch.manual_seed(0)
    m = cvattn.create("cpca", channels=8, reduction=2).double().eval()
    x = torch.randn(2, 8, 9, 12, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        cvattn.create("cpca", channels=8, reduction=16)
