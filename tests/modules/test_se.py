import torch
import torch.nn.functional as F

import cvattn


def _closed_form(c, r):
    hidden = c // r
    return c * hidden + hidden + hidden * c + c


def test_parameter_count_closed_form():
    for c, r in [(64, 16), (256, 8)]:
        m = cvattn.create("se", channels=c, reduction=r)
        assert sum(p.numel() for p in m.parameters()) == _closed_form(c, r)


def test_gate_matches_independent_reference():
    m = cvattn.create("se", channels=32, reduction=4).eval()
    x = torch.randn(3, 32, 9, 11, dtype=torch.float64)
    m = m.double()
    z = x.flatten(2).sum(-1) / (9 * 11)  # global average pooling written out
    w1, b1 = m.fc1.weight.flatten(1), m.fc1.bias
    w2, b2 = m.fc2.weight.flatten(1), m.fc2.bias
    s = torch.sigmoid(F.relu(z @ w1.T + b1) @ w2.T + b2)
    torch.testing.assert_close(m(x), x * s[:, :, None, None])
