import torch

import cvattn


def _count(c, h, w, r):
    d, n = c * r, h * w
    # U (C x d + d), LayerNorm(d/2) (2 * d/2), W and b (n x n + n), V (d/2 x C + C)
    return c * d + d + d + n * n + n + d // 2 * c + c


def test_parameter_count_closed_form():
    for c, h, w, r in [(64, 14, 14, 6), (10, 3, 5, 3)]:
        m = cvattn.create("gmlp", channels=c, h=h, w=w, ffn_ratio=r)
        assert sum(p.numel() for p in m.parameters()) == _count(c, h, w, r)


def _reference(m, x):
    """The paper's equations, token by token, with explicit loops over the h x w windows of the padded map."""
    n_, c, hh, ww = x.shape
    h, w, d = m.h, m.w, m.hidden
    t = x.permute(0, 2, 3, 1)  # (N, H, W, C)
    z = torch.nn.functional.gelu(t @ m.proj_in.weight.T + m.proj_in.bias)
    z1, z2 = z[..., : d // 2], z[..., d // 2 :]
    mu = z2.mean(-1, keepdim=True)
    var = ((z2 - mu) ** 2).mean(-1, keepdim=True)
    v = (z2 - mu) / torch.sqrt(var + m.norm.eps) * m.norm.weight + m.norm.bias
    gh, gw = -(-hh // h), -(-ww // w)
    vp = torch.zeros(n_, gh * h, gw * w, d // 2, dtype=x.dtype)
    vp[:, :hh, :ww] = v
    gate = torch.zeros_like(vp)
    wt, b = m.proj_spatial.weight, m.proj_spatial.bias
    for i in range(gh):
        for j in range(gw):
            win = vp[:, i * h : (i + 1) * h, j * w : (j + 1) * w].reshape(n_, h * w, d // 2)
            g = torch.einsum("pq,nqe->npe", wt, win) + b[None, :, None]
            gate[:, i * h : (i + 1) * h, j * w : (j + 1) * w] = g.reshape(n_, h, w, d // 2)
    y = (z1 * gate[:, :hh, :ww]) @ m.proj_out.weight.T + m.proj_out.bias
    return y.permute(0, 3, 1, 2)


def test_matches_reference_at_trained_and_padded_sizes():
    torch.manual_seed(0)
    m = cvattn.create("gmlp", channels=6, h=3, w=4, ffn_ratio=2).double().eval()
    with torch.no_grad():  # spatial weights far from their near-zero start, so the gate really mixes
        m.proj_spatial.weight.normal_()
        m.norm.weight.normal_()
    for size in [(3, 4), (5, 7)]:
        x = torch.randn(2, 6, *size, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_starts_close_to_a_plain_ffn():
    # W near zero and b = 1: the gate is ~1, so the block is ~ V GELU(U x)_{first half}, position by position
    torch.manual_seed(1)
    m = cvattn.create("gmlp", channels=8, h=4, w=4, ffn_ratio=2).double()
    x = torch.randn(1, 8, 4, 4, dtype=torch.float64)
    t = x.permute(0, 2, 3, 1)
    z1 = torch.nn.functional.gelu(t @ m.proj_in.weight.T + m.proj_in.bias)[..., :8]
    ffn = (z1 @ m.proj_out.weight.T + m.proj_out.bias).permute(0, 3, 1, 2)
    torch.testing.assert_close(m(x), ffn, atol=1e-3, rtol=1e-3)
