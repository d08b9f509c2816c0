import pytest
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import cvattn


def _count(cin, cout, t, k=3):
    hidden = cin * t  # multiples of 8 in these cases
    expand = cin * hidden + 2 * hidden if t > 1 else 0
    return expand + k * k * hidden + 2 * hidden + hidden * cout + 2 * cout


@pytest.mark.parametrize(
    ("cin", "cout", "t", "k"), [(32, 32, 6, 3), (16, 24, 6, 3), (32, 16, 1, 3), (64, 96, 4, 5)]
)
def test_parameter_count_closed_form(cin, cout, t, k):
    m = cvattn.create("mobilenetv2", in_channels=cin, out_channels=cout, expand_ratio=t, kernel_size=k)
    assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, t, k)


def test_expansion_width_follows_the_official_rounding():
    # make_divisible(12 * 1, 8) = 16 > 12: the official expanded_conv expands even at t = 1
    m = cvattn.create("mobilenetv2", in_channels=12, out_channels=12, expand_ratio=1)
    assert m.expand.conv.out_channels == 16
    m = cvattn.create("mobilenetv2", in_channels=20, out_channels=20, expand_ratio=6)
    assert m.expand.conv.out_channels == 120  # make_divisible(120, 8)


def _bn(z, bn):
    return F.batch_norm(z, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)


@pytest.mark.parametrize(("stride", "cout"), [(1, 8), (2, 8), (1, 16)])
def test_block_matches_table_1(stride, cout):
    m = cvattn.create("mobilenetv2", in_channels=8, out_channels=cout, stride=stride).double().eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    x = torch.randn(2, 8, 9, 10, dtype=torch.float64)
    z = torch.clamp(_bn(F.conv2d(x, m.expand.conv.weight), m.expand.bn), 0, 6)  # 1x1, ReLU6
    z = torch.clamp(
        _bn(F.conv2d(z, m.depthwise.conv.weight, stride=stride, padding=1, groups=48), m.depthwise.bn), 0, 6
    )
    z = _bn(F.conv2d(z, m.project.conv.weight), m.project.bn)  # linear 1x1
    ref = x + z if stride == 1 and cout == 8 else z
    torch.testing.assert_close(m(x), ref)


def test_table_2_network_has_the_papers_size():
    # MobileNetV2 (Table 2): conv 3x3/2 to 32, 17 bottlenecks (t, c, n, s), conv 1x1 to 1280, classifier
    cfg = [
        (1, 16, 1, 1),
        (6, 24, 2, 2),
        (6, 32, 3, 2),
        (6, 64, 4, 2),
        (6, 96, 3, 1),
        (6, 160, 3, 2),
        (6, 320, 1, 1),
    ]
    layers, cin = (
        [torch.nn.Conv2d(3, 32, 3, 2, 1, bias=False), torch.nn.BatchNorm2d(32), torch.nn.ReLU6()],
        32,
    )
    for t, c, n, s in cfg:
        for i in range(n):
            layers.append(
                cvattn.create(
                    "mobilenetv2", in_channels=cin, out_channels=c, stride=s if i == 0 else 1, expand_ratio=t
                )
            )
            cin = c
    layers += [torch.nn.Conv2d(320, 1280, 1, bias=False), torch.nn.BatchNorm2d(1280), torch.nn.ReLU6()]
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(1280, 1000)]
    net = torch.nn.Sequential(*layers).eval()
    params = sum(p.numel() for p in net.parameters())
    assert 3.4e6 <= params < 3.55e6  # paper Table 4: 3.4M; official slim checkpoint table: 3.47M
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        net(torch.randn(1, 3, 224, 224))
    madds = counter.get_total_flops() / 2
    assert abs(madds - 300e6) / 300e6 < 0.02  # paper Table 4 and the official table: 300M multiply-adds
