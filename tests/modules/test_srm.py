import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    # channel-wise FC (2 weights per channel) + BN affine (2 per channel): 4C
    for c in (64, 20):
        assert sum(p.numel() for p in cvattn.create("srm", channels=c).parameters()) == 4 * c
    assert sum(p.numel() for p in cvattn.create("srm", channels=20, norm_layer=None).parameters()) == 40


def _reference(m, x, training):
    """Style pooling and integration with explicit loops; BN with batch or running statistics."""
    n, c, h, w = x.shape
    z = torch.empty(n, c, dtype=x.dtype)
    for b in range(n):
        for k in range(c):
            v = x[b, k].reshape(-1)
            mu = v.sum() / v.numel()
            var = ((v - mu) ** 2).sum() / (v.numel() - 1)
            z[b, k] = m.cfc[k, 0] * mu + m.cfc[k, 1] * torch.sqrt(var + 1e-5)
    if training:
        mean, var = z.mean(0), z.var(0, unbiased=False)
    else:
        mean, var = m.bn.running_mean, m.bn.running_var
    z_hat = (z - mean) / torch.sqrt(var + m.bn.eps) * m.bn.weight + m.bn.bias
    return x / (1 + torch.exp(-z_hat))[:, :, None, None]


@pytest.mark.parametrize("training", [False, True])
def test_matches_reference(training):
    torch.manual_seed(0)
    m = cvattn.create("srm", channels=6).double()
    with torch.no_grad():
        m.cfc.normal_()
        m.bn.weight.uniform_(0.5, 1.5)
        m.bn.bias.normal_()
        m.bn.running_mean.normal_()
        m.bn.running_var.uniform_(0.5, 1.5)
    m.train(training)
    x = torch.randn(3, 6, 5, 7, dtype=torch.float64)
    expected = _reference(m, x, training)
    torch.testing.assert_close(m(x), expected)


def test_zero_init_gives_constant_gate():
    m = cvattn.create("srm", channels=4, zero_init=True).double().eval()
    x = torch.randn(2, 4, 3, 5, dtype=torch.float64)
    # cfc = 0: z = 0, BN(0) = bias - running_mean * weight / sqrt(1 + eps) = 0 at init: gate 1/2
    torch.testing.assert_close(m(x), x * 0.5)


def test_bad_input():
    with pytest.raises(ValueError, match="two positions"):
        cvattn.create("srm", channels=4)(torch.randn(2, 4, 1, 1))
    with pytest.raises(ValueError):
        cvattn.create("srm", channels=0)
