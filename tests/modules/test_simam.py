import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    # SimAM is parameter-free: 0 parameters for any width
    for c in (16, 64):
        assert sum(p.numel() for p in cvattn.create("simam", channels=c).parameters()) == 0


def _reference(x, lam):
    """Energy-function solution of the paper, with explicit loops over channels."""
    n, c, h, w = x.shape
    out = torch.empty_like(x)
    for b in range(n):
        for k in range(c):
            t = x[b, k]
            mu = t.sum() / (h * w)
            var = ((t - mu) ** 2).sum() / (h * w - 1)
            inv_e = (t - mu) ** 2 / (4 * (var + lam)) + 0.5
            out[b, k] = t / (1 + torch.exp(-inv_e))
    return out


@pytest.mark.parametrize("lam", [1e-4, 0.1])
def test_matches_reference(lam):
    torch.manual_seed(0)
    x = torch.randn(2, 5, 7, 9, dtype=torch.float64)
    m = cvattn.create("simam", channels=5, e_lambda=lam)
    torch.testing.assert_close(m(x), _reference(x, lam))


def test_weights_are_symmetric_about_the_mean_and_at_least_one_half():
    # the attention depends only on (x - mu)^2, and sigmoid(1/e*) >= sigmoid(1/2)
    x = torch.tensor([[[[-2.0, 0.5, 2.0, 1.0]]]], dtype=torch.float64)
    m = cvattn.create("simam", channels=1)
    a = m(x) / x
    assert (a >= torch.sigmoid(torch.tensor(0.5, dtype=torch.float64)) - 1e-12).all()
    y = torch.tensor([[[[0.25 - 1.5, 0.25 + 1.5]]]], dtype=torch.float64)
    g = m(y) / y
    torch.testing.assert_close(g[..., 0], g[..., 1])


def test_bad_arguments():
    with pytest.raises(ValueError):
        cvattn.create("simam", channels=4, e_lambda=-1.0)
    with pytest.raises(ValueError, match="two positions"):
        cvattn.create("simam", channels=4)(torch.randn(1, 4, 1, 1))
