import torch
import torch.nn.functional as F

import cvattn


def _count(c, r=32):
    mip = max(8, c // r)
    return c * mip + mip + 2 * mip + 2 * (mip * c + c)


def test_parameter_count_and_hidden_width_rule():
    for c in (64, 512):
        m = cvattn.create("coordinate-attention", channels=c)
        assert m.conv1.out_channels == max(8, c // 32)
        assert sum(p.numel() for p in m.parameters()) == _count(c)
    assert cvattn.create("coordinate-attention", channels=64).conv1.out_channels == 8  # floor of 8


def test_matches_independent_reference():
    m = cvattn.create("coordinate-attention", channels=16, reduction=2).double().eval()
    m.bn1.running_mean.uniform_(-0.5, 0.5)
    m.bn1.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 16, 7, 9, dtype=torch.float64)

    def transform(z):  # shared conv1 -> eval BN -> h_swish, on (N, C, L)
        y = torch.einsum("mc,ncl->nml", m.conv1.weight.flatten(1), z) + m.conv1.bias[:, None]
        bn = m.bn1
        y = (y - bn.running_mean[:, None]) / torch.sqrt(bn.running_var[:, None] + bn.eps) * bn.weight[:, None]
        y = y + bn.bias[:, None]
        return y * F.relu6(y + 3) / 6

    f_h, f_w = transform(x.mean(3)), transform(x.mean(2))  # separate passes: same as one in eval mode
    g_h = torch.sigmoid(torch.einsum("cm,nml->ncl", m.conv_h.weight.flatten(1), f_h) + m.conv_h.bias[:, None])
    g_w = torch.sigmoid(torch.einsum("cm,nml->ncl", m.conv_w.weight.flatten(1), f_w) + m.conv_w.bias[:, None])
    torch.testing.assert_close(m(x), x * g_h[:, :, :, None] * g_w[:, :, None, :])
