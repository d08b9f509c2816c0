import math

import torch

import cvattn


def test_parameter_count_closed_form():
    # W1 (D_S x S) + b1 (D_S) + W2 (S x D_S) + b2 (S), S = h * w; independent of the channels
    for c, h, w, d in [(64, 14, 14, 384), (32, 5, 7, 20)]:
        m = cvattn.create("mlp-mixer", channels=c, h=h, w=w, tokens_mlp_dim=d)
        s = h * w
        assert sum(p.numel() for p in m.parameters()) == 2 * s * d + d + s


def _gelu_tanh(z):
    return 0.5 * z * (1 + torch.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z**3)))


def _reference(m, x):
    """Loops over windows and channels; each window's tokens in row-major order, zero padding outside."""
    n, c, hh, ww = x.shape
    h, w = m.h, m.w
    gh, gw = -(-hh // h), -(-ww // w)
    xp = torch.zeros(n, c, gh * h, gw * w, dtype=x.dtype)
    xp[:, :, :hh, :ww] = x
    out = torch.zeros_like(xp)
    w1, b1, w2, b2 = m.fc1.weight, m.fc1.bias, m.fc2.weight, m.fc2.bias
    for i in range(gh):
        for j in range(gw):
            col = xp[:, :, i * h : (i + 1) * h, j * w : (j + 1) * w].reshape(n, c, h * w)  # (N, C, S)
            hidden = _gelu_tanh(torch.einsum("ds,ncs->ncd", w1, col) + b1)
            out[:, :, i * h : (i + 1) * h, j * w : (j + 1) * w] = (
                torch.einsum("sd,ncd->ncs", w2, hidden) + b2
            ).reshape(n, c, h, w)
    return out[:, :, :hh, :ww]


def test_matches_reference_at_trained_and_padded_sizes():
    torch.manual_seed(0)
    m = cvattn.create("mlp-mixer", channels=6, h=3, w=4, tokens_mlp_dim=10).double().eval()
    for size in [(3, 4), (7, 9)]:
        x = torch.randn(2, 6, *size, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_weights_are_shared_across_channels():
    torch.manual_seed(1)
    m = cvattn.create("mlp-mixer", channels=4, h=3, w=3, tokens_mlp_dim=8).double().eval()
    x = torch.randn(1, 1, 3, 3, dtype=torch.float64).expand(1, 4, 3, 3)
    y = m(x)
    for ch in range(1, 4):
        torch.testing.assert_close(y[:, ch], y[:, 0])
