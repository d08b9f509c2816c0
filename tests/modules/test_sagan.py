import pytest
import torch

import cvattn


def _count(c, r_qk, r_v):
    qk, v = c // r_qk, c // r_v
    return 2 * c * qk + c * v + v * c + 1  # query, key, value, output 1x1 convs (no bias) and gamma


def test_parameter_count_closed_form():
    for c, r_qk, r_v in [(64, 8, 2), (48, 4, 3)]:
        for sn in (True, False):
            m = cvattn.create("sagan", channels=c, qk_reduction=r_qk, v_reduction=r_v, spectral_norm=sn)
            assert sum(p.numel() for p in m.parameters()) == _count(c, r_qk, r_v)


def _reference(m, x):
    """The paper's equations with explicit loops over the pooled key positions and an explicit softmax."""
    n, c, hh, ww = x.shape
    wg, wf, wh, wv = (conv.weight[:, :, 0, 0] for conv in (m.query, m.key, m.value, m.out))
    g = torch.einsum("oc,nchw->nohw", wg, x).flatten(2)  # queries g(x_j): (N, C/8, HW)
    f = torch.einsum("oc,nchw->nohw", wf, x)  # keys f(x_i)
    h = torch.einsum("oc,nchw->nohw", wh, x)
    ph, pw = hh // 2, ww // 2
    # 2x2 max pooling, stride 2, dropping the last odd row/column
    f = torch.stack(
        [f[..., 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].amax((-2, -1)) for i in range(ph) for j in range(pw)],
        -1,
    )
    h = torch.stack(
        [h[..., 2 * i : 2 * i + 2, 2 * j : 2 * j + 2].amax((-2, -1)) for i in range(ph) for j in range(pw)],
        -1,
    )
    s = torch.einsum("nci,ncj->nji", f, g)  # s_ij = f(x_i) . g(x_j), indexed [j, i]
    beta = torch.exp(s) / torch.exp(s).sum(-1, keepdim=True)
    o = torch.einsum("nji,nci->ncj", beta, h)  # (N, C/2, HW)
    o = torch.einsum("oc,ncj->noj", wv, o).reshape(n, c, hh, ww)
    return x + m.gamma * o


def test_matches_reference_on_odd_size():
    torch.manual_seed(0)
    m = cvattn.create("sagan", channels=16, spectral_norm=False, zero_init=False).double().eval()
    with torch.no_grad():
        m.gamma.fill_(0.7)
    x = torch.randn(2, 16, 7, 9, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_spectral_norm_bounds_each_weight():
    torch.manual_seed(0)
    m = cvattn.create("sagan", channels=32).train()
    for _ in range(30):  # power iterations converge over training-mode passes
        m(torch.randn(1, 32, 4, 4))
    m.eval()
    for conv in (m.query, m.key, m.value, m.out):
        sigma = torch.linalg.matrix_norm(conv.weight[:, :, 0, 0].detach(), ord=2)
        torch.testing.assert_close(sigma, torch.tensor(1.0), atol=1e-3, rtol=0)


def test_gamma_starts_at_zero_so_the_block_is_an_identity():
    m = cvattn.create("sagan", channels=16, zero_init=True)
    x = torch.randn(2, 16, 6, 8)
    assert m.gamma.item() == 0.0
    torch.testing.assert_close(m(x), x)


def test_too_small_input_raises_value_error():
    with pytest.raises(ValueError, match="at least 2"):
        cvattn.create("sagan", channels=16)(torch.randn(1, 16, 1, 9))
