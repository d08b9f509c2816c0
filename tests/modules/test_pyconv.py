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


def test_three_levels_split_quarter_quarter_half():
    """The official PyConv3 gives its 3x3, 5x5 and 7x7 levels C/4, C/4 and C/2 output channels."""
    m = cvattn.create("pyconv", in_channels=16, out_channels=32, levels=3).double()
    assert [conv.out_channels for conv in m.levels] == [8, 8, 16]
    assert sum(p.numel() for p in m.parameters()) == 9 * 16 * 8 + 25 * 4 * 8 + 49 * 2 * 16
    x = torch.randn(2, 16, 7, 9, dtype=torch.float64)
    parts = [
        F.conv2d(x, conv.weight, padding=k // 2, groups=g)
        for conv, k, g in zip(m.levels, (3, 5, 7), (1, 4, 8), strict=True)
    ]
    torch.testing.assert_close(m(x), torch.cat(parts, 1))


def test_pyconvresnet_widths_are_accepted():
    """PyConvResNet's stage widths (64 .. 512, divisible by 4 but not by 3) build with every level count."""
    for levels in (4, 3, 2, 1):
        for width in (64, 128, 256, 512):
            m = cvattn.create("pyconv", in_channels=width, out_channels=width, levels=levels)
            assert sum(conv.out_channels for conv in m.levels) == width
