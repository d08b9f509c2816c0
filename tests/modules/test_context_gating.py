import torch

import cvattn


def test_parameter_count_closed_form():
    for c in (64, 128):
        assert (
            sum(p.numel() for p in cvattn.create("context-gating", channels=c).parameters()) == c * c + 2 * c
        )
        assert (
            sum(p.numel() for p in cvattn.create("context-gating", channels=c, norm_layer=None).parameters())
            == c * c + c
        )


def test_gate_per_position():
    m = cvattn.create("context-gating", channels=6, norm_layer=None).double()
    x = torch.randn(2, 6, 3, 4, dtype=torch.float64)
    w, b = m.fc.weight[:, :, 0, 0], m.fc.bias
    out = torch.empty_like(x)
    for i in range(3):
        for j in range(4):
            v = x[:, :, i, j]
            out[:, :, i, j] = torch.sigmoid(v @ w.T + b) * v
    torch.testing.assert_close(m(x), out)
