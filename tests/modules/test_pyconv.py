import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for cin, cout in [(64, 64), (128, 256)]:
        m = cvattn.create("pyconv", in_channels=cin, out_channels=cout)
        expected = sum(k * k * (cin // g) * (cout // 4) for k, g in [(3, 1), (5, 4), (7, 8), (9, 16)])
        assert sum(p.numel() for p in m.parameters()) == expected


def test_levels_are_grouped_convs_concatenated():
    m = cvattn.create("pyconv", in_channels=16, out_channels=8, levels=2, stride=2).double()
    x = torch.randn(1, 16, 9, 10, dtype=torch.float64)
    a = F.conv2d(x, m.levels[0].weight, stride=2, padding=1)
    b = F.conv2d(x, m.levels[1].weight, stride=2, padding=2, groups=4)
    torch.testing.assert_close(m(x), torch.cat([a, b], 1))
    assert m.levels[1].weight.shape == (4, 4, 5, 5)
