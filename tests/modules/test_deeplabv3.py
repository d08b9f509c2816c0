import torch
import torch.nn.functional as F

import cvattn


def _count(cin, c, n_rates):
    branches = cin * c + n_rates * 9 * cin * c + cin * c  # 1x1, atrous, image pooling (no conv bias)
    bn = (n_rates + 3) * 2 * c  # one BN per branch and one after the projection
    return branches + (n_rates + 2) * c * c + bn


def test_parameter_count_closed_form():
    for cin, c, rates in [(64, 256, (6, 12, 18)), (32, 48, (12, 24, 36, 48))]:
        m = cvattn.create("deeplabv3-aspp", in_channels=cin, out_channels=c, rates=rates)
        assert sum(p.numel() for p in m.parameters()) == _count(cin, c, len(rates))


def _cbr(cna, t, dilation=1):
    conv, bn = cna.conv, cna.bn
    z = F.conv2d(t, conv.weight, padding=dilation * (conv.kernel_size[0] // 2), dilation=dilation)
    s = (1, -1, 1, 1)
    z = (z - bn.running_mean.view(s)) / torch.sqrt(bn.running_var.view(s) + bn.eps)
    return torch.relu(z * bn.weight.view(s) + bn.bias.view(s))


def test_matches_independent_reference():
    m = cvattn.create("deeplabv3-aspp", in_channels=8, out_channels=6).double()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)
    m.eval()
    x = torch.randn(2, 8, 13, 17, dtype=torch.float64)
    assert [c.conv.dilation for c in m.atrous] == [(6, 6), (12, 12), (18, 18)]
    b = [_cbr(m.conv1x1, x)] + [_cbr(c, x, r) for c, r in zip(m.atrous, (6, 12, 18), strict=True)]
    pooled = x.sum((2, 3), keepdim=True) / (13 * 17)
    b.append(_cbr(m.image_pool, pooled).repeat(1, 1, 13, 17))
    ref = _cbr(m.project, torch.cat(b, 1))
    torch.testing.assert_close(m(x), ref)
