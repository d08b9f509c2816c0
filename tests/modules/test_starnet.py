import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, ratio, k):
    h = ratio * c
    depthwise = 2 * (k * k * c + c)  # two depthwise convs with biases
    branches = 2 * (c * h + h)
    return depthwise + branches + (h * c + c) + 2 * (2 * c)  # W_g with bias; two BNs


@pytest.mark.parametrize(("c", "ratio", "k"), [(32, 3, 7), (24, 4, 5)])
def test_parameter_count_closed_form(c, ratio, k):
    m = cvattn.create("starnet", channels=c, mlp_ratio=ratio, kernel_size=k)
    assert sum(p.numel() for p in m.parameters()) == _count(c, ratio, k)


def _bn(z, bn):
    return F.batch_norm(z, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)


def test_block_matches_the_star_equation():
    m = cvattn.create("starnet", channels=6, mlp_ratio=4).double().eval()
    with torch.no_grad():
        for bn in (m.dwconv.bn, m.g.bn):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 6, 9, 7, dtype=torch.float64)
    dw1, dw2 = m.dwconv.conv, m.dwconv2
    z = _bn(F.conv2d(x, dw1.weight, dw1.bias, padding=3, groups=6), m.dwconv.bn)
    a = torch.einsum("oc,nchw->nohw", m.f1.weight[:, :, 0, 0], z) + m.f1.bias[:, None, None]
    b = torch.einsum("oc,nchw->nohw", m.f2.weight[:, :, 0, 0], z) + m.f2.bias[:, None, None]
    star = a.clamp(0, 6) * b
    y = _bn(
        torch.einsum("oc,nchw->nohw", m.g.conv.weight[:, :, 0, 0], star) + m.g.conv.bias[:, None, None],
        m.g.bn,
    )
    ref = x + F.conv2d(y, dw2.weight, dw2.bias, padding=3, groups=6)
    torch.testing.assert_close(m(x), ref)


def test_star_is_a_quadratic_form_of_the_features():
    # with the activation removed, each star output is z^T A z + b^T z + c per pixel: doubling z (and the
    # biases set to zero) multiplies it by exactly 4
    m = cvattn.create("starnet", channels=4, mlp_ratio=2, act_layer="identity").double()
    with torch.no_grad():
        m.f1.bias.zero_()
        m.f2.bias.zero_()
    z = torch.randn(1, 4, 3, 3, dtype=torch.float64)
    star = m.act(m.f1(z)) * m.f2(z)
    star2 = m.act(m.f1(2 * z)) * m.f2(2 * z)
    torch.testing.assert_close(star2, 4 * star)
