import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    # BN affine: 2C (plus running mean/var buffers, not parameters)
    for c in (64, 10):
        assert sum(p.numel() for p in cvattn.create("nam", channels=c).parameters()) == 2 * c


def _reference(m, x, training):
    n, c, h, w = x.shape
    out = torch.empty_like(x)
    gamma = m.bn.weight.detach()
    total = sum(abs(float(g)) for g in gamma)
    for k in range(c):
        v = x[:, k]
        if training:
            mean = v.sum() / v.numel()
            var = ((v - mean) ** 2).sum() / v.numel()
        else:
            mean, var = m.bn.running_mean[k], m.bn.running_var[k]
        b = (v - mean) / torch.sqrt(var + m.bn.eps) * gamma[k] + m.bn.bias[k]
        out[:, k] = v / (1 + torch.exp(-abs(float(gamma[k])) / total * b))
    return out


@pytest.mark.parametrize("training", [False, True])
def test_matches_reference(training):
    torch.manual_seed(0)
    m = cvattn.create("nam", channels=5).double()
    with torch.no_grad():
        m.bn.weight.normal_()  # some negative scales: the weights use |gamma|
        m.bn.bias.normal_()
        m.bn.running_mean.normal_()
        m.bn.running_var.uniform_(0.5, 1.5)
    m.train(training)
    x = torch.randn(2, 5, 6, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x, training))


def test_no_gradient_to_gamma_through_the_channel_weights():
    # d out / d gamma comes only through BN(x); the share |gamma_c| / sum |gamma| is a constant
    torch.manual_seed(0)
    m = cvattn.create("nam", channels=3).double().eval()
    x = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    m(x).sum().backward()
    got = m.bn.weight.grad.clone()
    gamma = m.bn.weight.detach()
    w = gamma.abs() / gamma.abs().sum()
    x_hat = (x - m.bn.running_mean[None, :, None, None]) / torch.sqrt(m.bn.running_var + m.bn.eps)[
        None, :, None, None
    ]
    b = x_hat * gamma[None, :, None, None] + m.bn.bias[None, :, None, None]
    s = torch.sigmoid(w[None, :, None, None] * b)
    expected = (x * s * (1 - s) * w[None, :, None, None] * x_hat).sum((0, 2, 3))
    torch.testing.assert_close(got, expected)


def test_bad_arguments():
    with pytest.raises(ValueError):
        cvattn.create("nam", channels=0)
