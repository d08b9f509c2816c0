import torch
import torch.nn.functional as F

import cvattn


def closed_form(c, m=2, g=32, r=16, L=32):
    d = max(c // r, L)
    branch = 9 * c * (c // g) + 2 * c  # grouped 3x3 conv without bias + BN
    return m * branch + c * d + 2 * d + d * c * m


def test_parameter_count_closed_form():
    for c, m in [(64, 2), (128, 3)]:
        mod = cvattn.create("sk", channels=c, branches=m)
        assert sum(p.numel() for p in mod.parameters()) == closed_form(c, m)


def test_dilations_and_selection_weights():
    mod = cvattn.create("sk", channels=64, branches=3).double().eval()
    assert [c.conv.dilation for c in mod.convs] == [(1, 1), (2, 2), (3, 3)]
    x = torch.randn(2, 64, 9, 11, dtype=torch.float64)
    u = [F.relu(c.bn(c.conv(x))) for c in mod.convs]
    s = sum(u).mean((2, 3), keepdim=True)
    z = mod.fc(s)
    logits = mod.select(z).reshape(2, 3, 64)
    a = logits.exp() / logits.exp().sum(1, keepdim=True)  # softmax across branches, per channel
    torch.testing.assert_close(a.sum(1), torch.ones(2, 64, dtype=torch.float64))
    expected = sum(a[:, i, :, None, None] * u[i] for i in range(3))
    torch.testing.assert_close(mod(x), expected)
