import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(cin, x, bias=True, bn=False):
    h, q = x // 2, x // 4
    per_out = (1 if bias else 0) + (2 if bn else 0)
    return 9 * cin * h + 9 * cin * q + 3 * 9 * q * q + (h + 4 * q) * per_out


def test_parameter_count_closed_form():
    assert sum(
        p.numel() for p in cvattn.create("ssh", in_channels=512, out_channels=512).parameters()
    ) == _count(512, 512)
    m = cvattn.create("ssh", in_channels=64, out_channels=128, bias=False, norm_layer=torch.nn.BatchNorm2d)
    assert sum(p.numel() for p in m.parameters()) == _count(64, 128, bias=False, bn=True)


def test_official_channel_split_and_reference():
    m = cvattn.create("ssh", in_channels=8, out_channels=16).double()
    for conv in m.modules():
        if isinstance(conv, torch.nn.Conv2d):
            conv.weight.data.normal_(0, 0.3)
            conv.bias.data.uniform_(-0.1, 0.1)
    assert [c.conv.out_channels for c in (m.conv3x3, m.context_reduce, m.context5x5, m.context7x7_2)] == [
        8,
        4,
        4,
        4,
    ]
    x = torch.randn(2, 8, 13, 17, dtype=torch.float64)

    def conv(t, cna):
        return F.conv2d(F.pad(t, (1, 1, 1, 1)), cna.conv.weight, cna.conv.bias)

    r = conv(x, m.context_reduce).clamp(min=0)
    y5 = conv(r, m.context5x5)
    y7 = conv(conv(r, m.context7x7_1).clamp(min=0), m.context7x7_2)
    ref = torch.cat([conv(x, m.conv3x3), y5, y7], 1).clamp(min=0)
    torch.testing.assert_close(m(x), ref)


def test_out_channels_multiple_of_four():
    with pytest.raises(ValueError, match="multiple of 4"):
        cvattn.create("ssh", in_channels=8, out_channels=18)
