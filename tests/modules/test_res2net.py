import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, base_width=26, scale=4, stage=False):
    w = math.floor(cout // 4 * base_width / 64)
    nums = max(1, scale - 1)
    n = cin * w * scale + 2 * w * scale  # conv1 + bn1
    n += nums * (9 * w * w + 2 * w)  # the group convs and their BNs
    n += w * scale * cout + 2 * cout  # conv3 + bn3
    if stage:
        n += cin * cout + 2 * cout  # projection shortcut
    return n


@pytest.mark.parametrize(
    "cin, cout, stride, bw, s",
    [
        (256, 256, 1, 26, 4),
        (64, 256, 1, 26, 4),
        (256, 512, 2, 26, 4),
        (256, 256, 1, 14, 8),
        (128, 128, 1, 48, 1),
    ],
)
def test_parameter_count_closed_form(cin, cout, stride, bw, s):
    m = cvattn.create("res2net", in_channels=cin, out_channels=cout, stride=stride, base_width=bw, scale=s)
    stage = stride != 1 or cin != cout
    assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, bw, s, stage)


def test_res2net50_26w_4s_widths():
    # Res2Net-50-26w-4s: stage widths 26, 52, 104, 208 per group for planes 64, 128, 256, 512
    for planes, w in [(64, 26), (128, 52), (256, 104), (512, 208)]:
        m = cvattn.create("res2net", in_channels=planes * 4, out_channels=planes * 4)
        assert m.width == w and len(m.convs) == 3


def _bn(z, bn):
    s = (1, -1, 1, 1)
    return (z - bn.running_mean.view(s)) / torch.sqrt(bn.running_var.view(s) + bn.eps) * bn.weight.view(
        s
    ) + bn.bias.view(s)


def _reference(m, x, cin, cout, stride, s):
    # the paper's hierarchy written out: the groups are convolved in turn, each on its own split plus the
    # previous group's output (the first block of a stage: on its own split only), the last split passed on
    relu = torch.relu
    w = m.width
    stage = stride != 1 or cin != cout
    h = relu(_bn(F.conv2d(x, m.conv1.weight), m.bn1))
    splits = [h[:, i * w : (i + 1) * w] for i in range(s)]
    outs, prev = [], None
    for i in range(max(1, s - 1)):
        inp = splits[i] if (prev is None or stage) else splits[i] + prev
        prev = relu(_bn(F.conv2d(inp, m.convs[i].weight, stride=stride, padding=1), m.bns[i]))
        outs.append(prev)
    if s > 1:
        last = splits[-1]
        outs.append(F.avg_pool2d(last, 3, stride, 1) if stage else last)
    y = _bn(F.conv2d(torch.cat(outs, 1), m.conv3.weight), m.bn3)
    short = _bn(F.conv2d(x, m.downsample[0].weight, stride=stride), m.downsample[1]) if stage else x
    return relu(y + short)


@pytest.mark.parametrize(
    "cin, cout, stride, s", [(64, 64, 1, 4), (32, 64, 1, 4), (64, 128, 2, 4), (64, 64, 1, 1), (64, 64, 1, 6)]
)
def test_matches_reference(cin, cout, stride, s):
    torch.manual_seed(0)
    m = cvattn.create("res2net", in_channels=cin, out_channels=cout, stride=stride, scale=s, base_width=32)
    m = m.double()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    m.eval()
    x = torch.randn(2, cin, 9, 11, dtype=torch.float64)
    y = m(x)
    torch.testing.assert_close(y, _reference(m, x, cin, cout, stride, s))
    assert y.is_contiguous()


@pytest.mark.parametrize("scale, field", [(1, 3), (4, 7), (6, 11)])
def test_receptive_field_grows_with_scale(scale, field):
    # the hierarchy chains scale - 1 3x3 convs: one output pixel sees a (2 (scale - 1) + 1)-pixel window
    torch.manual_seed(0)
    m = cvattn.create("res2net", in_channels=64, out_channels=64, scale=scale, base_width=32).eval()
    x = torch.randn(1, 64, 17, 17, requires_grad=True)
    (g,) = torch.autograd.grad(m(x)[0, :, 8, 8].sum(), x)
    rows = g[0].abs().sum((0, 2)).nonzero().flatten()
    cols = g[0].abs().sum((0, 1)).nonzero().flatten()
    assert int(rows.max() - rows.min()) + 1 == field == int(cols.max() - cols.min()) + 1


def test_rejects_bad_arguments_and_input():
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("res2net", in_channels=64, out_channels=66)
    m = cvattn.create("res2net", in_channels=64, out_channels=64)
    with pytest.raises(ValueError, match="expected"):
        m(torch.randn(2, 32, 7, 7))
