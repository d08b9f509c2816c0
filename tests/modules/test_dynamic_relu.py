import pytest
import torch

import cvattn


@pytest.mark.parametrize("variant,per_channel", [("dynamic-relu", True), ("dynamic-relu-a", False)])
def test_parameter_count_closed_form(variant, per_channel):
    for c, k, r in [(64, 2, 4), (32, 3, 8)]:
        m = cvattn.create(variant, channels=c, k=k, reduction=r)
        hidden, out = c // r, 2 * k * (c if per_channel else 1)
        assert sum(p.numel() for p in m.parameters()) == c * hidden + hidden + hidden * out + out


def _reference(m, x, per_channel):
    """y_c = max_k (a_c^k x_c + b_c^k), a = alpha + lambda_a * (2 sigmoid - 1), b likewise, per sample."""
    n, c = x.shape[:2]
    k = m.k
    out = torch.empty_like(x)
    for i in range(n):
        z = x[i].mean((1, 2))
        theta = 2 * torch.sigmoid(m.fc2(torch.relu(m.fc1(z)))) - 1
        theta = theta.view(2 * k, c if per_channel else 1)
        for ch in range(c):
            col = ch if per_channel else 0
            a = [(1.0 if j == 0 else 0.0) + 1.0 * theta[j, col] for j in range(k)]
            b = [0.5 * theta[k + j, col] for j in range(k)]
            lines = torch.stack([a[j] * x[i, ch] + b[j] for j in range(k)])
            out[i, ch] = lines.max(0).values
    return out


@pytest.mark.parametrize("variant,per_channel", [("dynamic-relu", True), ("dynamic-relu-a", False)])
@pytest.mark.parametrize("k", [2, 3])
def test_matches_the_equation(variant, per_channel, k):
    torch.manual_seed(0)
    m = cvattn.create(variant, channels=16, k=k).double()
    with torch.no_grad():
        m.fc2.weight.mul_(10)  # residuals spread over (-1, 1)
    x = torch.randn(3, 16, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x, per_channel))


def test_zero_residuals_give_relu_and_channels_adapt():
    torch.manual_seed(0)
    m = cvattn.create("dynamic-relu", channels=8).double()
    x = torch.randn(2, 8, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        m.fc2.weight.zero_()
        m.fc2.bias.zero_()
    torch.testing.assert_close(m(x), torch.relu(x))
    # with a trained hyper function the same value maps differently in different samples and channels
    with torch.no_grad():
        m.fc2.weight.normal_(0, 1)
    x = torch.randn(2, 8, 4, 4, dtype=torch.float64)
    x[:, :, 0, 0] = 0.7
    y = m(x)[:, :, 0, 0]
    assert y.unique().numel() == y.numel()
