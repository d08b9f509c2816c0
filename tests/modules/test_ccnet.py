import torch

import cvattn


def test_parameter_count_closed_form():
    for c in (64, 128):
        m = cvattn.create("ccnet", channels=c)
        assert sum(p.numel() for p in m.parameters()) == 2 * (c * (c // 8) + c // 8) + c * c + c + 1


def one_pass_reference(m, x):
    """Loop over positions: softmax over the H + W - 1 criss-cross positions (u once)."""
    q, k, v = m.query(x), m.key(x), m.value(x)
    n, c, h, w = x.shape
    out = torch.zeros_like(x)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                keys = [(g, j) for g in range(h) if g != i] + [(i, g) for g in range(w)]
                e = torch.stack([q[b, :, i, j] @ k[b, :, gi, gj] for gi, gj in keys])
                a = torch.softmax(e, 0)
                assert torch.isclose(a.sum(), torch.tensor(1.0, dtype=a.dtype))
                out[b, :, i, j] = sum(a[t] * v[b, :, gi, gj] for t, (gi, gj) in enumerate(keys))
    return m.gamma * out + x


def test_matches_loop_reference_with_recurrence():
    m = cvattn.create("ccnet", channels=16, recurrence=2).double().eval()
    x = torch.randn(2, 16, 4, 5, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(m(x), one_pass_reference(m, one_pass_reference(m, x)))


def test_two_passes_reach_every_position():
    m = cvattn.create("ccnet", channels=8).eval()
    x = torch.zeros(1, 8, 5, 6, requires_grad=True)
    m(x)[0, :, 0, 0].sum().backward()
    assert (x.grad[0].abs().sum(0) > 0).all()  # R = 2 connects (0, 0) to every position
