import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(cin, c, k, groups, radix, red=4):
    hidden = max(cin * radix // red, 32)
    conv = cin // (groups * radix) * k * k * c * radix
    return (
        conv
        + 2 * c * radix
        + c // groups * hidden
        + hidden
        + 2 * hidden
        + hidden // groups * c * radix
        + c * radix
    )


def test_parameter_count_closed_form():
    for cin, c, groups, radix in [(64, 64, 1, 2), (128, 256, 2, 4)]:
        m = cvattn.create("resnest", in_channels=cin, out_channels=c, groups=groups, radix=radix)
        assert m.fc1.out_channels == max(cin * radix // 4, 32)
        assert sum(p.numel() for p in m.parameters()) == _count(cin, c, 3, groups, radix)


def _bn(t, bn):
    s = (1, -1, 1, 1)
    return (t - bn.running_mean.view(s)) / torch.sqrt(bn.running_var.view(s) + bn.eps) * bn.weight.view(
        s
    ) + bn.bias.view(s)


@pytest.mark.parametrize("groups,radix", [(1, 2), (2, 2), (2, 1), (1, 4)])
def test_matches_official_split_reference(groups, radix):
    m = cvattn.create("resnest", in_channels=16, out_channels=8, groups=groups, radix=radix).double().eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 16, 7, 9, dtype=torch.float64)
    u = F.relu(_bn(F.conv2d(x, m.conv.weight, padding=1, groups=groups * radix), m.bn0))
    splits = torch.split(u, 8, dim=1)
    gap = sum(splits).mean((2, 3), keepdim=True)
    z = F.relu(_bn(F.conv2d(gap, m.fc1.weight, m.fc1.bias, groups=groups), m.bn1))
    logits = F.conv2d(z, m.fc2.weight, m.fc2.bias, groups=groups).flatten(1)
    if radix > 1:  # official rSoftMax: view (N, K, R, -1), softmax over R
        att = logits.view(2, groups, radix, -1).transpose(1, 2).softmax(1).reshape(2, -1)
    else:
        att = torch.sigmoid(logits)
    atts = torch.split(att[:, :, None, None], 8, dim=1)
    expected = sum(a * s for a, s in zip(atts, splits, strict=True))
    torch.testing.assert_close(m(x), expected)
    if radix > 1:
        torch.testing.assert_close(sum(atts), torch.ones_like(atts[0]))  # weights over the splits sum to one


def test_stride_changes_output_size():
    m = cvattn.create("resnest", in_channels=32, out_channels=64, stride=2)
    assert m(torch.randn(1, 32, 13, 17)).shape == (1, 64, 7, 9)
