import pytest
import torch
import torch.nn.functional as F

import cvattn


def _eq11(c1, c2, alpha=0.5, r=2, g=2, k=3):
    """The paper's parameter count of SCConv (Eq. 11); the SRU's GroupNorm adds 2 C_1."""
    a, b = int(alpha * c1), c1 - int(alpha * c1)
    return (
        a * (a // r)
        + k * k * (a // r // g) * (c2 // g) * g
        + (a // r) * c2
        + b * (b // r)
        + (b // r) * (c2 - b // r)
    )


@pytest.mark.parametrize(("c1", "c2", "alpha", "k"), [(64, 64, 0.5, 3), (32, 64, 0.75, 3), (64, 32, 0.5, 5)])
def test_parameter_count_is_equation_11(c1, c2, alpha, k):
    cru = cvattn.create("scconv-cru", in_channels=c1, out_channels=c2, alpha=alpha, kernel_size=k)
    assert sum(p.numel() for p in cru.parameters()) == _eq11(c1, c2, alpha, k=k)
    full = cvattn.create("scconv", in_channels=c1, out_channels=c2, alpha=alpha, kernel_size=k)
    assert sum(p.numel() for p in full.parameters()) == _eq11(c1, c2, alpha, k=k) + 2 * c1


def test_about_a_fifth_of_a_3x3_conv():
    # paper, Sec. 2.3: alpha = 1/2, r = 2, g = 2, k = 3, C_1 = C_2 = C gives P_s / P_sc ~ 5
    ratio = 9 * 64 * 64 / _eq11(64, 64)
    assert 4.5 < ratio < 5.5


def test_sru_matches_equations_1_to_4():
    sru = cvattn.create("scconv-sru", channels=8, groups=4).double()
    with torch.no_grad():
        sru.gn.weight.uniform_(0.2, 2.0)
        sru.gn.bias.uniform_(-1.0, 1.0)
    x = torch.randn(2, 8, 5, 6, dtype=torch.float64)
    # GroupNorm written out: 4 groups of 2 channels, biased variance
    z = x.view(2, 4, -1)
    z = (
        (z - z.mean(-1, keepdim=True)) / (z.var(-1, unbiased=False, keepdim=True) + sru.gn.eps).sqrt()
    ).view_as(x)
    gamma, beta = sru.gn.weight, sru.gn.bias
    gn = z * gamma[:, None, None] + beta[:, None, None]
    w = 1 / (1 + torch.exp(-(gn * (gamma / gamma.sum())[:, None, None])))
    w1 = w.clone()
    w1[w > 0.5] = 1.0
    w2 = w.clone()
    w2[w > 0.5] = 0.0
    x1, x2 = w1 * x, w2 * x
    ref = torch.cat([x1[:, :4] + x2[:, 4:], x2[:, :4] + x1[:, 4:]], dim=1)
    torch.testing.assert_close(sru(x), ref)


def test_cru_matches_equations_5_to_9():
    cru = cvattn.create("scconv-cru", in_channels=8, out_channels=12).double()
    x = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    up = F.conv2d(x[:, :4], cru.squeeze1.weight)
    low = F.conv2d(x[:, 4:], cru.squeeze2.weight)
    y1 = F.conv2d(up, cru.gwc.weight, padding=1, groups=2) + F.conv2d(up, cru.pwc1.weight)
    y2 = torch.cat([F.conv2d(low, cru.pwc2.weight), low], dim=1)
    s1, s2 = y1.mean((2, 3), keepdim=True), y2.mean((2, 3), keepdim=True)
    beta1 = torch.exp(s1) / (torch.exp(s1) + torch.exp(s2))
    ref = beta1 * y1 + (1 - beta1) * y2
    torch.testing.assert_close(cru(x), ref)


def test_scconv_is_sru_then_cru():
    m = cvattn.create("scconv", in_channels=32, out_channels=48).double()
    x = torch.randn(1, 32, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(m(x), m.cru(m.sru(x)))
    assert m(x).shape == (1, 48, 6, 6)


def test_bad_widths_raise():
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("scconv-sru", channels=20, groups=16)
    with pytest.raises(ValueError, match="alpha"):
        cvattn.create("scconv-cru", in_channels=16, out_channels=16, alpha=1.0)
