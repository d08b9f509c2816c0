import pytest
import torch

import cvattn


def _count(cin, cout, k, bias=False):
    return k * k * cin + 2 * cin + cin * cout + 2 * cout + ((cin + cout) if bias else 0)


def test_parameter_count_closed_form():
    for cin, cout, k, bias in [(32, 64, 3, False), (24, 40, 5, True)]:
        m = cvattn.create("mobilenet", in_channels=cin, out_channels=cout, kernel_size=k, bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, k, bias)


def _bn_relu(z, bn):
    s = (1, -1, 1, 1)
    z = (z - bn.running_mean.view(s)) / torch.sqrt(bn.running_var.view(s) + bn.eps)
    return torch.relu(z * bn.weight.view(s) + bn.bias.view(s))


@pytest.mark.parametrize(("stride", "dilation"), [(1, 1), (2, 1), (1, 2)])
def test_matches_explicit_depthwise_then_pointwise(stride, dilation):
    m = cvattn.create("mobilenet", in_channels=5, out_channels=7, stride=stride, dilation=dilation).double()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
    m.eval()
    x = torch.randn(2, 5, 13, 17, dtype=torch.float64)
    # depthwise: each channel convolved alone with its own 3x3 filter (channel loop + unfold)
    p = dilation
    dw = []
    for c in range(5):
        cols = torch.nn.functional.unfold(x[:, c : c + 1], 3, dilation=dilation, padding=p, stride=stride)
        h_out, w_out = (
            (13 + 2 * p - 2 * dilation - 1) // stride + 1,
            (17 + 2 * p - 2 * dilation - 1) // stride + 1,
        )
        dw.append((m.depthwise.conv.weight[c].reshape(1, 9) @ cols).reshape(2, h_out, w_out))
    d = _bn_relu(torch.stack(dw, 1), m.depthwise.bn)
    pw = torch.einsum("oc,nchw->nohw", m.pointwise.conv.weight[:, :, 0, 0], d)
    torch.testing.assert_close(m(x), _bn_relu(pw, m.pointwise.bn))
    assert m.depthwise.conv.groups == 5 and m.pointwise.conv.kernel_size == (1, 1)
