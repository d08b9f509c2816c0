import torch
import torch.nn.functional as F

import cvattn


def _count(c, prev, r=16):
    h = c // r
    se = c * h + h + h * c + c
    proj = prev * c + c + 2 * c if prev != c else 0
    return se + proj + 3 + 2 * c


def test_parameter_count_closed_form():
    for c, prev in [(64, 32), (256, 256)]:
        m = cvattn.create("dcanet", channels=c, prev_channels=prev)
        assert sum(p.numel() for p in m.parameters()) == _count(c, prev)


def _ln(t, ln):
    return F.layer_norm(t, t.shape[-1:], ln.weight, ln.bias, ln.eps)


def test_matches_independent_reference_and_chains():
    m = cvattn.create("dcanet", channels=16, prev_channels=8, reduction=4).double().eval()
    x = torch.randn(3, 16, 5, 6, dtype=torch.float64)
    prev = torch.randn(3, 8, 1, 1, dtype=torch.float64)
    lin1, lin2 = m.fc[0], m.fc[2]

    def se(v):
        return torch.sigmoid(F.relu(v @ lin1.weight.T + lin1.bias) @ lin2.weight.T + lin2.bias)

    g = torch.stack([x[:, c].sum((1, 2)) / 30 for c in range(16)], 1)
    p = F.relu(_ln(prev.flatten(1) @ m.att_fc[0].weight.T + m.att_fc[0].bias, m.att_fc[1]))
    w = m.connect.weight.flatten()
    merged = F.relu(_ln(w[0] * g + w[1] * p + m.connect.bias, m.connect_norm))
    a = se(merged)
    out, att = m(x, prev)
    torch.testing.assert_close(out, x * a[:, :, None, None])
    torch.testing.assert_close(att, (g * a)[:, :, None, None])
    # first block of a network: no previous attention -> plain SE
    out0, att0 = m(x)
    torch.testing.assert_close(out0, x * se(g)[:, :, None, None])
    # chaining: the next block takes this block's attended descriptor
    nxt = cvattn.create("dcanet", channels=16, prev_channels=16).double().eval()
    assert nxt(out, att)[0].shape == x.shape
