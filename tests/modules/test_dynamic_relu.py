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


def test_c_parameter_count_closed_form():
    for c, k, r in [(64, 2, 4), (32, 3, 8)]:
        m = cvattn.create("dynamic-relu-c", channels=c, k=k, reduction=r)
        hidden, out = c // r, 2 * k * c
        b_part = c * hidden + hidden + hidden * out + out
        assert sum(p.numel() for p in m.parameters()) == b_part + (c + 1) + 2  # 1x1 conv to one map, BN(1)


def _spatial_reference(m, x, train):
    """pi_{h,w} = min(gamma_scale * H * W * softmax_{h,w}(BN(w . x_{:,h,w} + b) / tau), 1), position by position."""
    n, c, h, w = x.shape
    conv, bn = m.spatial
    z = torch.einsum("c,nchw->nhw", conv.weight.view(c), x) + conv.bias
    if train:
        mean, var = z.mean(), z.var(unbiased=False)
    else:
        mean, var = bn.running_mean[0], bn.running_var[0]
    z = (z - mean) / torch.sqrt(var + bn.eps) * bn.weight[0] + bn.bias[0]
    pi = torch.empty(n, 1, h, w, dtype=x.dtype)
    for i in range(n):
        e = torch.exp(z[i] / m.temperature)
        pi[i, 0] = torch.minimum(m.gamma_scale * h * w * e / e.sum(), torch.ones(()))
    return pi


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("temperature", [1.0, 10.0])
def test_c_is_the_channel_wise_function_times_the_spatial_attention(train, temperature):
    torch.manual_seed(0)
    m = cvattn.create("dynamic-relu-c", channels=16, temperature=temperature).double()
    with torch.no_grad():
        m.fc2.weight.mul_(10)
        m.spatial[0].weight.mul_(20)  # a peaked map: some positions reach the clamp at 1
        m.spatial[1].running_mean.fill_(0.3)
        m.spatial[1].running_var.fill_(2.0)
    m.train(train)
    x = torch.randn(3, 16, 5, 7, dtype=torch.float64)
    pi = _spatial_reference(m, x, train)
    if temperature == 1.0:
        assert (pi == 1).any() and (pi < 1).any()
    torch.testing.assert_close(m(x), _reference(m, x, per_channel=True) * pi)


def test_c_gives_a_third_of_b_on_a_flat_map_and_rejects_bad_arguments():
    torch.manual_seed(0)
    c = cvattn.create("dynamic-relu-c", channels=8).double().eval()
    b = cvattn.create("dynamic-relu", channels=8).double()
    b.load_state_dict({k: v for k, v in c.state_dict().items() if not k.startswith("spatial")})
    with torch.no_grad():
        c.spatial[0].weight.zero_()  # the same logit everywhere: pi = (HW / 3) / HW
    x = torch.randn(2, 8, 4, 6, dtype=torch.float64)
    torch.testing.assert_close(c(x), b(x) / 3)
    for bad in ({"gamma_scale": 0}, {"temperature": -1.0}):
        with pytest.raises(ValueError, match="must be positive"):
            cvattn.create("dynamic-relu-c", channels=8, **bad)


def test_c_gradients_reach_every_parameter():
    torch.manual_seed(0)
    m = cvattn.create("dynamic-relu-c", channels=8).double()
    x = torch.randn(2, 8, 6, 6, dtype=torch.float64, requires_grad=True)
    m(x).square().sum().backward()
    # a constant added to the logits leaves the softmax unchanged: the conv's bias and BN's shift get no gradient
    constant = {"spatial.0.bias", "spatial.1.bias"}
    for name, p in m.named_parameters():
        if name in constant:
            assert p.grad.abs().max() < 1e-12, name
        else:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert x.grad is not None and x.grad.abs().sum() > 0
