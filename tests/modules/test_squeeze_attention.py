import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, k=3, n=2):
    stack = cin * cout * k * k + 2 * cout + (n - 1) * (cout * cout * k * k + 2 * cout)
    return 2 * stack


def test_parameter_count_closed_form():
    for cin, cout in [(64, 64), (32, 96)]:
        m = cvattn.create("squeeze-attention", in_channels=cin, out_channels=cout)
        assert sum(p.numel() for p in m.parameters()) == _count(cin, cout)


def _stack(seq, t):
    for cna in seq:
        bn = cna.bn
        z = F.conv2d(t, cna.conv.weight, padding=1)
        s = (1, -1, 1, 1)
        t = F.relu(
            (z - bn.running_mean.view(s)) / torch.sqrt(bn.running_var.view(s) + bn.eps) * bn.weight.view(s)
            + bn.bias.view(s)
        )
    return t


def test_matches_independent_reference():
    m = cvattn.create("squeeze-attention", in_channels=8, out_channels=12).double().eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 8, 8, 10, dtype=torch.float64)
    pooled = x.reshape(2, 8, 4, 2, 5, 2).mean((3, 5))  # 2x2 average pooling written as a reshape
    a = torch.sigmoid(_stack(m.conv_attn, pooled))
    x_attn = a.repeat_interleave(2, 2).repeat_interleave(2, 3)  # nearest up-sampling by 2
    x_res = _stack(m.conv_res, x)
    torch.testing.assert_close(m(x), x_attn * x_res + x_attn)
