import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    # gamma and beta: 2C
    for c in (16, 96):
        m = cvattn.create("convnextv2-grn", channels=c)
        assert sum(p.numel() for p in m.parameters()) == 2 * c


def _reference(m, x):
    """The paper's three steps with explicit loops over samples and channels."""
    n, c, h, w = x.shape
    out = torch.empty_like(x)
    for b in range(n):
        g = torch.stack([torch.sqrt((x[b, k] ** 2).sum()) for k in range(c)])
        nx = g / (g.sum() / c + m.eps)
        for k in range(c):
            out[b, k] = m.gamma[k] * x[b, k] * nx[k] + m.beta[k] + x[b, k]
    return out


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("convnextv2-grn", channels=6).double()
    with torch.no_grad():
        m.gamma.normal_()
        m.beta.normal_()
    x = torch.randn(2, 6, 5, 9, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_starts_as_identity_and_weights_strong_channels_more():
    m = cvattn.create("convnextv2-grn", channels=3).double()
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(m(x), x)
    with torch.no_grad():
        m.gamma.fill_(1.0)
    x = torch.ones(1, 3, 4, 4, dtype=torch.float64) * torch.tensor([1.0, 2.0, 3.0])[None, :, None, None]
    gain = (m(x) / x)[0, :, 0, 0]  # 1 + N(x)_c, with N(x) proportional to the channel's norm
    torch.testing.assert_close(
        gain - 1, torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64), rtol=1e-5, atol=0
    )


def test_bad_arguments():
    with pytest.raises(ValueError):
        cvattn.create("convnextv2-grn", channels=0)
