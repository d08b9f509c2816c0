import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, g in [(64, 4), (32, 8)]:
        m = cvattn.create("ulsam", channels=c, num_splits=g)
        assert sum(p.numel() for p in m.parameters()) == (c + c) + 2 * c + (c + g) + 2 * g


def test_matches_official_per_subspace_loop():
    m = cvattn.create("ulsam", channels=8, num_splits=2).double().eval()
    x = torch.randn(2, 8, 5, 6, dtype=torch.float64)

    def bn(b, t, sl):
        return (t - b.running_mean[sl, None, None]) / torch.sqrt(
            b.running_var[sl, None, None] + b.eps
        ) * b.weight[sl, None, None] + b.bias[sl, None, None]

    outs = []
    for s in range(2):
        sl = slice(4 * s, 4 * s + 4)
        xs = x[:, sl]
        a = F.conv2d(xs, m.dws.weight[sl], m.dws.bias[sl], groups=4)
        a = F.max_pool2d(F.relu(bn(m.bn_dws, a, sl)), 3, 1, 1)
        a = F.conv2d(a, m.point.weight[s : s + 1], m.point.bias[s : s + 1])
        a = F.relu(bn(m.bn_point, a, slice(s, s + 1)))
        a = torch.softmax(a.flatten(2), -1).reshape(2, 1, 5, 6)
        torch.testing.assert_close(a.sum((2, 3)), torch.ones(2, 1, dtype=torch.float64))
        outs.append(xs * a + xs)
    torch.testing.assert_close(m(x), torch.cat(outs, 1))
