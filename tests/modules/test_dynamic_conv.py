import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for cin, cout, k, n_k in [(32, 32, 3, 4), (16, 8, 1, 6)]:
        m = cvattn.create("dynamic-conv", in_channels=cin, out_channels=cout, kernel_size=k, num_kernels=n_k)
        h = cin // 4
        assert (
            sum(p.numel() for p in m.parameters())
            == (cin * h + h) + (h * n_k + n_k) + n_k * cout * cin * k * k + n_k * cout
        )


def test_per_sample_kernel_is_the_attention_mixture():
    m = cvattn.create(
        "dynamic-conv", in_channels=8, out_channels=6, kernel_size=3, padding=1, temperature=2.0
    ).double()
    x = torch.randn(3, 8, 7, 9, dtype=torch.float64)
    out = m(x)
    for n in range(3):
        logits = m.attention(x[n].mean((1, 2))) / 2.0
        pi = logits.exp() / logits.exp().sum()
        assert torch.isclose(pi.sum(), torch.tensor(1.0, dtype=torch.float64))
        kernel = sum(pi[k] * m.weight[k] for k in range(4))
        bias = sum(pi[k] * m.bias[k] for k in range(4))
        torch.testing.assert_close(out[n : n + 1], F.conv2d(x[n : n + 1], kernel, bias, padding=1))


def test_high_temperature_gives_near_uniform_attention():
    m = cvattn.create("dynamic-conv", in_channels=8, out_channels=8, temperature=1000.0)
    pi = torch.softmax(m.attention(torch.randn(4, 8)) / m.temperature, -1)
    torch.testing.assert_close(pi, torch.full_like(pi, 0.25), atol=1e-3, rtol=0)
