import numpy as np
import pytest
import torch

import cvattn
from cvattn.attention.show_attend_tell import doubly_stochastic_regularizer


def test_parameter_count_closed_form():
    for c, d, layers, sel in [(64, 32, 2, True), (512, 1800, 1, False), (16, 8, 3, True)]:
        m = cvattn.create("show-attend-tell", channels=c, query_channels=d, attn_layers=layers, selector=sel)
        expected = layers * (c * c + c) + d * c + c + sel * (d + 1)
        assert sum(p.numel() for p in m.parameters()) == expected


def _theano_step(m, x, h):
    """The deterministic attention of the official capgen.py ``_step``, transcribed in numpy on (N, L, D)."""
    context = x.flatten(2).transpose(1, 2).numpy()  # (N, L, D), as the official code holds it
    w = lambda conv: conv.weight.detach().flatten(1).numpy().T  # noqa: E731  (D_in, D_out) as Theano stores it
    pctx = context @ w(m.w_a) + m.w_a.bias.detach().numpy()
    for layer in m.w_deep:
        pctx = np.tanh(pctx @ w(layer) + layer.bias.detach().numpy())
    pstate = h.numpy() @ m.w_h.weight.detach().numpy().T
    alpha = (np.tanh(pctx + pstate[:, None, :]) @ w(m.u))[:, :, 0]
    alpha = np.exp(alpha - alpha.max(1, keepdims=True))
    alpha = alpha / alpha.sum(1, keepdims=True)
    ctx = (context * alpha[:, :, None]).sum(1)
    if m.selector is not None:
        sel = 1 / (
            1 + np.exp(-(h.numpy() @ m.selector.weight.detach().numpy().T + m.selector.bias.detach().numpy()))
        )
        ctx = sel[:, 0][:, None] * ctx
    return ctx, alpha


@pytest.mark.parametrize(("layers", "selector"), [(1, False), (2, True), (3, True)])
def test_matches_the_official_step(layers, selector):
    m = cvattn.create("show-attend-tell", channels=6, query_channels=5, attn_layers=layers, selector=selector)
    m = m.double()
    x, h = torch.randn(2, 6, 3, 4, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    z, alpha = m(x, h)
    ctx, ref_alpha = _theano_step(m, x, h)
    np.testing.assert_allclose(z.detach().numpy(), ctx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(alpha.detach().reshape(2, 12).numpy(), ref_alpha, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(m(x, h[:, :, None, None])[0], z)  # (N, d, 1, 1) states too


def test_doubly_stochastic_regularizer():
    alphas = torch.softmax(torch.randn(3, 5, 2, 4, dtype=torch.float64), dim=-1)  # (N, T, H, W)
    cover = alphas.reshape(3, 5, 8).sum(1)
    expected = sum(((1 - cover[n]) ** 2).sum() for n in range(3)) / 3
    torch.testing.assert_close(doubly_stochastic_regularizer(alphas), expected)
    uniform = torch.full(
        (2, 8, 8), 1 / 8, dtype=torch.float64
    )  # T = L steps, each uniform: every location covered once
    assert doubly_stochastic_regularizer(uniform).item() == pytest.approx(0.0, abs=1e-12)
