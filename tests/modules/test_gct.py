import math

import torch

import cvattn


def test_parameter_count_closed_form():
    for c in (64, 512):
        assert sum(p.numel() for p in cvattn.create("gct", channels=c).parameters()) == 3 * c


def test_l2_gate_matches_paper_formula():
    m = cvattn.create("gct", channels=8).double()
    with torch.no_grad():
        for p in (m.alpha, m.gamma, m.beta):
            p.normal_()
    x = torch.randn(2, 8, 5, 4, dtype=torch.float64)
    out = torch.empty_like(x)
    for n in range(2):
        s = (
            torch.tensor(
                [math.sqrt((x[n, c] ** 2).sum().item() + 1e-5) for c in range(8)], dtype=torch.float64
            )
            * m.alpha.flatten()
        )
        s_hat = math.sqrt(8) * s / math.sqrt((s**2).sum().item() + 8 * 1e-5)  # sqrt(C) s_c / ||s||_2
        gate = 1 + torch.tanh(m.gamma.flatten() * s_hat + m.beta.flatten())
        out[n] = x[n] * gate[:, None, None]
    torch.testing.assert_close(m(x), out)


def test_zero_init_is_identity():
    x = torch.randn(2, 16, 3, 3)
    torch.testing.assert_close(cvattn.create("gct", channels=16, zero_init=True)(x), x)
