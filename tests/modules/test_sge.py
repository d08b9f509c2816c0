import torch

import cvattn


def test_parameter_count_closed_form():
    for c, g in [(64, 64), (256, 32)]:
        assert sum(p.numel() for p in cvattn.create("sge", channels=c, groups=g).parameters()) == 2 * g


def test_matches_per_group_loop():
    m = cvattn.create("sge", channels=12, groups=3).double()
    with torch.no_grad():
        m.weight.normal_()
        m.bias.normal_()
    x = torch.randn(2, 12, 5, 6, dtype=torch.float64)
    out = torch.empty_like(x)
    for n in range(2):
        for g in range(3):
            xs = x[n, 4 * g : 4 * g + 4]  # (C/G, H, W)
            mean = xs.mean((1, 2))
            c = torch.einsum("c,chw->hw", mean, xs)
            c = (c - c.mean()) / (c.std() + 1e-5)
            out[n, 4 * g : 4 * g + 4] = xs * torch.sigmoid(m.weight[0, g, 0, 0] * c + m.bias[0, g, 0, 0])
    torch.testing.assert_close(m(x), out)


def test_groups_are_lowered_to_divide_channels():
    assert cvattn.create("sge", channels=10, groups=4).groups == 2
    assert cvattn.create("sge", channels=8, groups=64).groups == 8
