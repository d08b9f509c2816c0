import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, k, groups=1):
    a, b = cin // 2, cout // 2
    conv = lambda i, o: i // groups * k * k * o + 2 * o  # noqa: E731  conv + BN
    return conv(a, b) + 2 * conv(a, a) + conv(a, b)


def test_parameter_count_closed_form():
    for cin, cout, k in [(64, 64, 3), (32, 128, 5)]:
        m = cvattn.create("scnet", in_channels=cin, out_channels=cout, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, k)


def _cb(seq, t, stride=1):
    conv, bn = seq[0], seq[1]
    z = F.conv2d(t, conv.weight, stride=stride, padding=conv.padding)
    s = (1, -1, 1, 1)
    return (z - bn.running_mean.view(s)) / torch.sqrt(bn.running_var.view(s) + bn.eps) * bn.weight.view(
        s
    ) + bn.bias.view(s)


@pytest.mark.parametrize("stride", [1, 2])
def test_matches_independent_reference(stride):
    m = cvattn.create("scnet", in_channels=16, out_channels=24, stride=stride).double().eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 16, 13, 17, dtype=torch.float64)
    x1, x2 = x[:, :8], x[:, 8:]
    t = _cb(m.k2, F.avg_pool2d(x1, 4))  # (N, 8, 3, 4)
    rows = (torch.arange(13) * 3 // 13).tolist()  # nearest up-sampling written as an index map
    cols = (torch.arange(17) * 4 // 17).tolist()
    up = t[:, :, rows][:, :, :, cols]
    y1 = _cb(m.k4, _cb(m.k3, x1) * torch.sigmoid(x1 + up), stride)
    y2 = _cb(m.k1, x2, stride)
    out = m(x)
    assert out.shape == (2, 24, (13 - 1) // stride + 1, (17 - 1) // stride + 1)
    torch.testing.assert_close(out, torch.cat([y1, y2], 1))


def test_odd_channels_refused():
    with pytest.raises(ValueError, match="even"):
        cvattn.create("scnet", in_channels=15, out_channels=16)
