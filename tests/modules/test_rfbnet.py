import pytest
import torch
import torch.nn.functional as F

import cvattn

# (in, out, kernel, stride, padding, dilation, relu) of every conv, from the official BasicRFB / BasicRFB_a,
# written out for in_channels = 64 (RFB: C' = 8; RFB-s: C' = 16), stride s, visual v = 1
RFB = [
    [(64, 16, (1, 1), "s", (0, 0), (1, 1), True), (16, 16, (3, 3), 1, (1, 1), (1, 1), False)],
    [
        (64, 8, (1, 1), 1, (0, 0), (1, 1), True),
        (8, 16, (3, 3), "s", (1, 1), (1, 1), True),
        (16, 16, (3, 3), 1, (2, 2), (2, 2), False),
    ],
    [
        (64, 8, (1, 1), 1, (0, 0), (1, 1), True),
        (8, 12, (3, 3), 1, (1, 1), (1, 1), True),
        (12, 16, (3, 3), "s", (1, 1), (1, 1), True),
        (16, 16, (3, 3), 1, (3, 3), (3, 3), False),
    ],
]
RFB_S = [
    [(64, 16, (1, 1), 1, (0, 0), (1, 1), True), (16, 16, (3, 3), "s", (1, 1), (1, 1), False)],
    [
        (64, 16, (1, 1), 1, (0, 0), (1, 1), True),
        (16, 16, (3, 1), "s", (1, 0), (1, 1), True),
        (16, 16, (3, 3), 1, (3, 3), (3, 3), False),
    ],
    [
        (64, 16, (1, 1), 1, (0, 0), (1, 1), True),
        (16, 16, (1, 3), "s", (0, 1), (1, 1), True),
        (16, 16, (3, 3), 1, (3, 3), (3, 3), False),
    ],
    [
        (64, 8, (1, 1), 1, (0, 0), (1, 1), True),
        (8, 12, (1, 3), 1, (0, 1), (1, 1), True),
        (12, 16, (3, 1), "s", (1, 0), (1, 1), True),
        (16, 16, (3, 3), 1, (5, 5), (5, 5), False),
    ],
]


def _describe(cna):
    c = cna.conv
    relu = isinstance(cna.act, torch.nn.ReLU)
    return (c.in_channels, c.out_channels, c.kernel_size, c.stride[0], c.padding, c.dilation, relu)


@pytest.mark.parametrize(("id", "table", "width"), [("rfbnet", RFB, 48), ("rfbnet-s", RFB_S, 64)])
@pytest.mark.parametrize("stride", [1, 2])
def test_branch_configs_match_official(id, table, width, stride):
    m = cvattn.create(id, in_channels=64, out_channels=32, stride=stride)
    expected = [[t[:3] + ((stride if t[3] == "s" else t[3]),) + t[4:] for t in branch] for branch in table]
    assert [[_describe(c) for c in b] for b in m.branches] == expected
    assert _describe(m.conv_linear) == (width, 32, (1, 1), 1, (0, 0), (1, 1), False)
    assert _describe(m.shortcut) == (64, 32, (1, 1), stride, (0, 0), (1, 1), False)
    assert all(mod.momentum == 0.01 for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d))
    assert m.conv_linear.conv.bias is None
    y = m(torch.randn(1, 64, 13, 17))
    assert y.shape == (1, 32, (13 - 1) // stride + 1, (17 - 1) // stride + 1)


def _count(table, width, cin, cout):
    convs = [t for b in table for t in b] + [(width, cout, (1, 1)), (cin, cout, (1, 1))]
    return sum(i * o * k[0] * k[1] + 2 * o for i, o, k, *_ in convs)


def test_parameter_count_closed_form():
    for id, table, width in [("rfbnet", RFB, 48), ("rfbnet-s", RFB_S, 64)]:
        for cout in (64, 128):
            m = cvattn.create(id, in_channels=64, out_channels=cout)
            assert sum(p.numel() for p in m.parameters()) == _count(table, width, 64, cout)


def _cbr(cna, t):
    c, bn = cna.conv, cna.bn
    z = F.conv2d(t, c.weight, stride=c.stride, padding=c.padding, dilation=c.dilation)
    s = (1, -1, 1, 1)
    z = (z - bn.running_mean.view(s)) / (bn.running_var.view(s) + bn.eps).sqrt() * bn.weight.view(
        s
    ) + bn.bias.view(s)
    return z.clamp(min=0) if isinstance(cna.act, torch.nn.ReLU) else z


@pytest.mark.parametrize(("id", "scale"), [("rfbnet", 0.1), ("rfbnet-s", 0.1), ("rfbnet", 1.0)])
def test_scaled_residual_matches_reference(id, scale):
    m = cvattn.create(id, in_channels=32, out_channels=24, scale=scale).double()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)
    m.eval()
    x = torch.randn(2, 32, 11, 9, dtype=torch.float64)
    outs = []
    for branch in m.branches:
        t = x
        for cna in branch:
            t = _cbr(cna, t)
        outs.append(t)
    ref = (scale * _cbr(m.conv_linear, torch.cat(outs, 1)) + _cbr(m.shortcut, x)).clamp(min=0)
    torch.testing.assert_close(m(x), ref)


def test_visual_sets_atrous_rates():
    m = cvattn.create("rfbnet", in_channels=64, out_channels=64, visual=2)
    assert [b[-1].conv.dilation[0] for b in m.branches] == [2, 3, 5]
    assert [b[-1].conv.padding[0] for b in m.branches] == [2, 3, 5]
