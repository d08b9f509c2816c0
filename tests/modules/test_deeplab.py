import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, n_rates, hidden=None):
    if hidden is None:
        return n_rates * (9 * cin * cout + cout)
    return n_rates * (9 * cin * hidden + hidden + hidden * hidden + hidden + hidden * cout + cout)


def test_parameter_count_closed_form():
    for cin, cout, hidden in [(64, 21, None), (32, 10, 48)]:
        m = cvattn.create("deeplab-aspp", in_channels=cin, out_channels=cout, hidden_channels=hidden)
        assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, 4, hidden)


def _atrous(x, w, b, r):
    """3x3 atrous conv written as a sum of shifted 1x1 products over a zero-padded input."""
    h, wd = x.shape[2:]
    xp = F.pad(x, (r, r, r, r))
    out = b.view(1, -1, 1, 1).expand(x.shape[0], -1, h, wd).clone()
    for i in range(3):
        for j in range(3):
            patch = xp[:, :, i * r : i * r + h, j * r : j * r + wd]
            out = out + torch.einsum("oc,nchw->nohw", w[:, :, i, j], patch)
    return out


def test_resnet_form_is_sum_of_atrous_convs():
    m = cvattn.create("deeplab-aspp", in_channels=6, out_channels=5).double().eval()
    assert [b.dilation for b in m.branches] == [(6, 6), (12, 12), (18, 18), (24, 24)]
    for b in m.branches:  # non-zero biases so that the sum of four biases shows
        b.bias.data.uniform_(-1, 1)
    x = torch.randn(2, 6, 13, 30, dtype=torch.float64)
    ref = sum(_atrous(x, b.weight, b.bias, r) for b, r in zip(m.branches, (6, 12, 18, 24), strict=True))
    torch.testing.assert_close(m(x), ref)


def test_vgg_form_branch_is_fc6_fc7_fc8():
    m = cvattn.create("deeplab-aspp", in_channels=4, out_channels=3, rates=(2, 4), hidden_channels=8)
    m = m.double().eval()
    x = torch.randn(1, 4, 9, 11, dtype=torch.float64)
    ref = 0
    for seq, r in zip(m.branches, (2, 4), strict=True):
        fc6, fc7, fc8 = seq[0], seq[3], seq[6]
        h = _atrous(x, fc6.weight, fc6.bias, r).clamp(min=0)
        h = torch.einsum("oc,nchw->nohw", fc7.weight[:, :, 0, 0], h) + fc7.bias.view(1, -1, 1, 1)
        h = h.clamp(min=0)
        ref = ref + torch.einsum("oc,nchw->nohw", fc8.weight[:, :, 0, 0], h) + fc8.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(m(x), ref)
