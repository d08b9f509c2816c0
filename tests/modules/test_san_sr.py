import torch

import cvattn
from cvattn.attention import san_sr


def _count(c, r):
    h = c // r
    return (c * h + h) + (h * c + c)  # two 1x1 convolutions with bias


def test_parameter_count_closed_form():
    for c, r in [(64, 8), (64, 16), (12, 5)]:
        m = cvattn.create("san-sr-soca", channels=c, reduction=r)
        assert sum(p.numel() for p in m.parameters()) == _count(c, r)


def _sqrt_newton_schulz(sigma, n_iter):
    """The paper's iteration: Y_0 = A, Z_0 = I, Y_k = 0.5 Y (3I - Z Y), Z_k = 0.5 (3I - Z Y) Z; A = Sigma / tr."""
    c = sigma.shape[-1]
    eye = torch.eye(c, dtype=sigma.dtype)
    tr = torch.einsum("nii->n", sigma)[:, None, None]
    y, z = sigma / tr, eye.expand_as(sigma)
    for _ in range(n_iter):
        t = 3 * eye - torch.einsum("nij,njk->nik", z, y)
        y, z = 0.5 * torch.einsum("nij,njk->nik", y, t), 0.5 * torch.einsum("nij,njk->nik", t, z)
    return y * tr.sqrt()


def _reference(m, x, n_iter):
    n, c, h, w = x.shape
    mm = h * w
    xf = x.reshape(n, c, mm)
    i_hat = (torch.eye(mm, dtype=x.dtype) - torch.full((mm, mm), 1.0 / mm, dtype=x.dtype)) / mm
    sigma = torch.einsum("ncm,mk,ndk->ncd", xf, i_hat, xf)
    y = _sqrt_newton_schulz(sigma, n_iter)
    z = y.sum(1) / c  # mean over rows: (N, C)
    d = torch.clamp(z @ m.conv_down.weight[:, :, 0, 0].T + m.conv_down.bias, min=0)
    g = 1 / (1 + torch.exp(-(d @ m.conv_up.weight[:, :, 0, 0].T + m.conv_up.bias)))
    return x * g[:, :, None, None]


def test_matches_reference():
    torch.manual_seed(0)
    x = torch.randn(2, 10, 5, 9, dtype=torch.float64)
    for n_iter in (2, 5, 7):
        m = cvattn.create("san-sr-soca", channels=10, reduction=2, iterations=n_iter).double().eval()
        torch.testing.assert_close(m(x), _reference(m, x, n_iter))


def test_newton_schulz_converges_to_the_matrix_square_root():
    torch.manual_seed(1)
    f = torch.randn(3, 6, 40, dtype=torch.float64)
    sigma = f @ f.transpose(1, 2) / 40 + 0.1 * torch.eye(6, dtype=torch.float64)
    vals, vecs = torch.linalg.eigh(sigma)
    exact = vecs @ torch.diag_embed(vals.sqrt()) @ vecs.transpose(1, 2)
    torch.testing.assert_close(san_sr._sqrtm_newton_schulz(sigma, 40), exact)
    approx = san_sr._sqrtm_newton_schulz(sigma, 5)
    assert (approx - exact).abs().max() > 1e-6  # five iterations are an approximation, as in the paper


def test_large_maps_use_the_central_crop():
    torch.manual_seed(2)
    m = cvattn.create("san-sr-soca", channels=4, reduction=2, max_size=6).double().eval()
    x = torch.randn(1, 4, 5, 10, dtype=torch.float64)
    gate = m(x) / x
    crop = x[:, :, :, 2:8]  # width 10 -> central 6 columns, height 5 kept
    torch.testing.assert_close(gate, _reference(m, crop, 5)[..., :1] / crop[..., :1] * torch.ones_like(x))
