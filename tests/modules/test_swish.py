import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    assert sum(p.numel() for p in cvattn.create("swish", trainable=False).parameters()) == 0
    assert sum(p.numel() for p in cvattn.create("swish").parameters()) == 1  # the paper's trainable beta
    for c in (16, 64):
        m = cvattn.create("swish", trainable=True, channels=c)
        assert sum(p.numel() for p in m.parameters()) == c


@pytest.mark.parametrize("beta", [1.0, 0.0, 1.7])
def test_constant_beta_matches_formula(beta):
    x = torch.linspace(-8, 8, 101, dtype=torch.float64)
    ref = x / (1 + torch.exp(-beta * x))
    torch.testing.assert_close(cvattn.create("swish", beta=beta, trainable=False)(x), ref)


def test_limits_linear_and_relu():
    x = torch.linspace(-5, 5, 41, dtype=torch.float64)
    torch.testing.assert_close(cvattn.create("swish", beta=0.0, trainable=False)(x), x / 2)
    torch.testing.assert_close(
        cvattn.create("swish", beta=200.0, trainable=False)(x), x.clamp(min=0), atol=1e-6, rtol=0
    )


def test_trainable_per_channel_beta_and_its_gradient():
    m = cvattn.create("swish", trainable=True, channels=3, beta=0.5).double()
    with torch.no_grad():
        m.beta.copy_(torch.tensor([0.5, 1.0, 2.0]).view(3, 1, 1))
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    y = m(x)
    for c, b in enumerate([0.5, 1.0, 2.0]):
        torch.testing.assert_close(y[:, c], x[:, c] * torch.sigmoid(b * x[:, c]))
    y.sum().backward()
    # d/dbeta x sigmoid(beta x) = x^2 sigmoid(beta x) (1 - sigmoid(beta x))
    for c, b in enumerate([0.5, 1.0, 2.0]):
        s = torch.sigmoid(b * x[:, c])
        torch.testing.assert_close(m.beta.grad[c, 0, 0], (x[:, c] ** 2 * s * (1 - s)).sum())


def test_channels_without_trainable_refused():
    with pytest.raises(ValueError, match="trainable"):
        cvattn.create("swish", channels=8, trainable=False)
