import math

import torch
import torch.nn.functional as F

import cvattn


def closed_form(cin, n, k=1, s=2, d=3):
    m = math.ceil(n / s)
    return (cin * m * k * k + 2 * m) + (m * (s - 1) * d * d + 2 * m * (s - 1))


def test_parameter_count_closed_form():
    for cin, n, s in [(32, 64, 2), (16, 30, 3)]:
        m = cvattn.create("ghostnet", in_channels=cin, out_channels=n, ratio=s)
        assert sum(p.numel() for p in m.parameters()) == closed_form(cin, n, s=s)


def test_ghosts_are_depthwise_maps_of_the_intrinsic_ones():
    m = cvattn.create("ghostnet", in_channels=8, out_channels=11, ratio=3).double().eval()
    x = torch.randn(2, 8, 9, 7, dtype=torch.float64)
    p, c = m.primary_conv, m.cheap_operation

    def bn(b, t):
        return (t - b.running_mean[:, None, None]) / torch.sqrt(
            b.running_var[:, None, None] + b.eps
        ) * b.weight[:, None, None] + b.bias[:, None, None]

    intrinsic = F.relu(bn(p.bn, F.conv2d(x, p.conv.weight)))
    ghosts = F.relu(bn(c.bn, F.conv2d(intrinsic, c.conv.weight, padding=1, groups=4)))
    expected = torch.cat([intrinsic, ghosts], 1)[:, :11]
    torch.testing.assert_close(m(x), expected)
