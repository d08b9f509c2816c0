import pytest
import torch

import cvattn


@pytest.mark.parametrize(("c", "order"), [(64, 1), (64, 3), (512, 6), (20, 2)])
def test_parameter_count_closed_form(c, order):
    m = cvattn.create("mhn", channels=c, order=order)
    h = c // 8 * 2
    assert m.hidden == h
    # R (R + 1) / 2 projections C -> h and R output convs h -> C, all bias-free
    assert sum(p.numel() for p in m.parameters()) == order * (order + 1) // 2 * c * h + order * h * c


def _reference(m, x):
    """The HOA map written out position by position from the weights, order by order."""
    weights = [p.weight[:, :, 0, 0] for p in m.proj]
    outs = [e.weight[:, :, 0, 0] for e in m.expand]
    n, c, hh, ww = x.shape
    out = torch.empty_like(x)
    for b in range(n):
        for i in range(hh):
            for j in range(ww):
                v = x[b, :, i, j]
                a = torch.zeros(c, dtype=x.dtype)
                idx = 0
                for r in range(1, m.order + 1):
                    z = torch.ones(m.hidden, dtype=x.dtype)
                    for _ in range(r):
                        z = z * (weights[idx] @ v)
                        idx += 1
                    a = a + torch.sigmoid(outs[r - 1] @ z.clamp_min(0))
                out[b, :, i, j] = v * a / m.order
    return out


@pytest.mark.parametrize("order", [1, 2, 4])
def test_matches_position_by_position_reference(order):
    m = cvattn.create("mhn", channels=16, order=order).double()
    x = torch.randn(2, 16, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_attention_is_bounded_by_the_input():
    m = cvattn.create("mhn", channels=16, order=2)
    x = torch.randn(2, 16, 5, 5)
    ratio = m(x) / x
    assert bool((ratio > 0).all()) and bool((ratio < 1).all())  # mean of sigmoids lies in (0, 1)


def test_rejects_bad_order():
    with pytest.raises(ValueError, match="order"):
        cvattn.create("mhn", channels=16, order=0)
