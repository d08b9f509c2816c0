import torch

import cvattn
from cvattn.attention.sa_net import channel_shuffle


def test_parameter_count_closed_form():
    for c, g in [(256, 64), (128, 8)]:
        m = cvattn.create("sa-net", channels=c, groups=g)
        k = c // (2 * g)
        assert sum(p.numel() for p in m.parameters()) == 4 * k + 2 * k  # four scale/shift vectors + GN affine


def test_channel_shuffle_order():
    x = torch.arange(6.0).reshape(1, 6, 1, 1)
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]


def test_matches_explicit_group_loop():
    m = cvattn.create("sa-net", channels=16, groups=2).double()
    with torch.no_grad():
        for p in (m.cweight, m.cbias, m.sweight, m.sbias):
            p.normal_()
    x = torch.randn(2, 16, 3, 5, dtype=torch.float64)
    halves = []
    for g in range(2):
        xg = x[:, 8 * g : 8 * g + 8]
        x0, x1 = xg[:, :4], xg[:, 4:]
        xn = x0 * torch.sigmoid(m.cweight * x0.mean((2, 3), keepdim=True) + m.cbias)
        mu, var = x1.mean((2, 3), keepdim=True), x1.var((2, 3), unbiased=False, keepdim=True)
        gn = (x1 - mu) / torch.sqrt(var + m.gn.eps) * m.gn.weight[:, None, None] + m.gn.bias[:, None, None]
        xs = x1 * torch.sigmoid(m.sweight * gn + m.sbias)
        halves.append(torch.cat([xn, xs], 1))
    out = torch.cat(halves, 1)
    expected = torch.stack([out[:, :8], out[:, 8:]], 2).reshape(2, 16, 3, 5)  # shuffle across 2 groups
    torch.testing.assert_close(m(x), expected)
