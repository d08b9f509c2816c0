import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c in (64, 256):
        assert sum(p.numel() for p in cvattn.create("bisenet-arm", channels=c).parameters()) == c * c + 2 * c
    for cs, cc, co, r in [(64, 64, 128, 1), (32, 96, 64, 4)]:
        h = co // r
        m = cvattn.create(
            "bisenet-ffm", spatial_channels=cs, context_channels=cc, out_channels=co, reduction=r
        )
        assert sum(p.numel() for p in m.parameters()) == (cs + cc) * co + 2 * co + co * h + h * co


def _bn(t, bn):
    s = (1, -1, 1, 1)
    return (t - bn.running_mean.view(s)) / torch.sqrt(bn.running_var.view(s) + bn.eps) * bn.weight.view(
        s
    ) + bn.bias.view(s)


def test_arm_matches_reference():
    m = cvattn.create("bisenet-arm", channels=8).double().eval()
    m.bn.running_mean.uniform_(-0.5, 0.5)
    m.bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    z = torch.einsum("oc,nc->no", m.conv.weight.flatten(1), x.flatten(2).mean(-1))[:, :, None, None]
    torch.testing.assert_close(m(x), x * torch.sigmoid(_bn(z, m.bn)))


def test_ffm_matches_reference():
    m = cvattn.create("bisenet-ffm", spatial_channels=6, context_channels=10, out_channels=12, reduction=2)
    m = m.double().eval()
    m.fuse.bn.running_mean.uniform_(-0.5, 0.5)
    xs = torch.randn(2, 6, 5, 7, dtype=torch.float64)
    xc = torch.randn(2, 10, 5, 7, dtype=torch.float64)
    w = m.fuse.conv.weight.flatten(1)
    u = F.relu(
        _bn(
            torch.einsum("oc,nchw->nohw", w[:, :6], xs) + torch.einsum("oc,nchw->nohw", w[:, 6:], xc),
            m.fuse.bn,
        )
    )
    g = u.mean((2, 3))
    a = torch.sigmoid(F.relu(g @ m.fc1.weight.flatten(1).T) @ m.fc2.weight.flatten(1).T)[:, :, None, None]
    torch.testing.assert_close(m(xs, xc), u * (1 + a))
