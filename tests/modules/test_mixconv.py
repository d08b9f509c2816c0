import pytest
import torch
import torch.nn.functional as F

import cvattn
from cvattn.blocks.mixconv import _split_channels


def _count(splits, kernels, multiplier=1, bias=False):
    return sum(c * multiplier * (k * k + (1 if bias else 0)) for c, k in zip(splits, kernels, strict=True))


def test_split_rule_remainder_to_first_group():
    assert _split_channels(64, 4) == [16, 16, 16, 16]
    assert _split_channels(30, 4) == [9, 7, 7, 7]
    assert _split_channels(10, 3) == [4, 3, 3]


def test_parameter_count_closed_form():
    m = cvattn.create("mixconv", in_channels=64)
    assert sum(p.numel() for p in m.parameters()) == 16 * (9 + 25 + 49 + 81)
    m = cvattn.create("mixconv", in_channels=30, out_channels=60, kernel_size=(3, 5, 7, 9), bias=True)
    assert [c.kernel_size[0] for c in m.convs] == [3, 5, 7, 9]
    assert sum(p.numel() for p in m.parameters()) == _count([9, 7, 7, 7], [3, 5, 7, 9], 2, True)


@pytest.mark.parametrize(("stride", "dilation", "out"), [(1, 1, 30), (2, 1, 30), (1, 2, 60)])
def test_matches_zero_padded_single_depthwise_conv(stride, dilation, out):
    """Every group's kernel, zero-padded to 9x9 and centred, gives one equivalent depthwise 9x9 conv."""
    m = cvattn.create("mixconv", in_channels=30, out_channels=out, stride=stride, dilation=dilation).double()
    w = torch.zeros(out, 1, 9, 9, dtype=torch.float64)
    start = 0
    for conv in m.convs:
        k = conv.kernel_size[0]
        o = (9 - k) // 2
        n = conv.out_channels
        w[start : start + n, :, o : o + k, o : o + k] = conv.weight
        start += n
    x = torch.randn(2, 30, 13, 17, dtype=torch.float64)
    ref = F.conv2d(x, w, stride=stride, padding=4 * dilation, dilation=dilation, groups=30)
    torch.testing.assert_close(m(x), ref)


def test_bad_configurations_refused():
    with pytest.raises(ValueError, match="multiple"):
        cvattn.create("mixconv", in_channels=16, out_channels=24)
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("mixconv", in_channels=16, kernel_size=(3, 4))
