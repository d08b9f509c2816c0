import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, k):
    return 2 * c + (c * c + c) + (k * k * c + c) + 2 * (c * c + c)  # LN, W1, depthwise kxk, V and W3


def test_parameter_count_closed_form():
    for c, k in [(64, 11), (20, 7)]:
        m = cvattn.create("conv2former", channels=c, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == _count(c, k) == 3 * c * c + k * k * c + 6 * c


def _depthwise(x, conv):
    kh, kw = conv.weight.shape[-2:]
    xp = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2))
    h, w = x.shape[-2:]
    out = torch.zeros_like(x) + conv.bias[None, :, None, None]
    for i in range(kh):
        for j in range(kw):
            out = out + conv.weight[None, :, 0, i, j, None, None] * xp[:, :, i : i + h, j : j + w]
    return out


def _pointwise(x, conv):
    return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]


@pytest.mark.parametrize("k", [11, 5])
def test_matches_reference(k):
    torch.manual_seed(k)
    m = cvattn.create("conv2former", channels=6, kernel_size=k).double().eval()
    with torch.no_grad():
        m.norm.weight.uniform_(0.5, 1.5)
        m.norm.bias.normal_()
    x = torch.randn(2, 6, 8, 13, dtype=torch.float64)
    mu = x.mean(1, keepdim=True)
    var = ((x - mu) ** 2).mean(1, keepdim=True)
    xn = (x - mu) / torch.sqrt(var + 1e-6) * m.norm.weight[:, None, None] + m.norm.bias[:, None, None]
    a = _depthwise(F.gelu(_pointwise(xn, m.att[0])), m.att[2])
    expected = _pointwise(a * _pointwise(xn, m.v), m.proj)
    torch.testing.assert_close(m(x), expected)


def test_output_is_local_to_the_kernel():
    # an output pixel depends only on the k x k window around it (the norm and 1x1 convs are per pixel)
    torch.manual_seed(0)
    m = cvattn.create("conv2former", channels=3, kernel_size=5).double().eval()
    x = torch.randn(1, 3, 15, 15, dtype=torch.float64, requires_grad=True)
    m(x)[0, :, 7, 7].sum().backward()
    reached = x.grad[0].abs().sum(0) > 0
    assert reached[5:10, 5:10].all() and reached.sum() == 25


def test_even_kernel_raises():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("conv2former", channels=8, kernel_size=4)
