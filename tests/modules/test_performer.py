import math

import torch

import cvattn
from cvattn.attention.performer import favor_attention, orthogonal_random_matrix


def test_parameter_count_closed_form():
    for c, heads, m in [(64, 8, 256), (48, 3, 100)]:
        p = cvattn.create("performer", channels=c, num_heads=heads, num_features=m)
        # query, key, value and output 1x1 projections without bias; the random projections are a buffer
        assert sum(t.numel() for t in p.parameters()) == 4 * c * c
        assert p.projection_matrix.shape == (m, c // heads)


def test_projection_rows_are_orthogonal_within_blocks():
    d, m = 6, 15  # two full blocks and three remaining rows
    w = orthogonal_random_matrix(m, d, scaling=1, generator=torch.Generator().manual_seed(0)).double()
    torch.testing.assert_close(
        w.norm(dim=1), torch.full((m,), math.sqrt(d), dtype=torch.float64), atol=1e-5, rtol=0
    )
    for block in (w[0:6], w[6:12], w[12:15]):
        gram = block @ block.T
        torch.testing.assert_close(gram, d * torch.eye(len(block), dtype=torch.float64), atol=1e-5, rtol=0)
    w0 = orthogonal_random_matrix(m, d, scaling=0, generator=torch.Generator().manual_seed(0))
    directions = w0 / w0.norm(dim=1, keepdim=True)
    torch.testing.assert_close(directions[:6] @ directions[:6].T, torch.eye(6), atol=1e-5, rtol=0)


def test_directions_are_not_sign_biased():
    # every coordinate of a uniformly random direction is positive half of the time
    gen = torch.Generator().manual_seed(0)
    w = torch.cat([orthogonal_random_matrix(4, 4, 1, gen) for _ in range(2000)])
    assert (w > 0).double().mean(0).sub(0.5).abs().max() < 0.05


def _phi(x, w, eps, stabilise_over):
    """Positive random features by hand: m^-1/2 (exp(w . x' - |x'|^2/2 - max) + eps), x' = d^-1/4 x."""
    d, m = x.shape[-1], w.shape[0]
    xs = x / d**0.25
    proj = torch.einsum("...ld,md->...lm", xs, w)
    sq = 0.5 * (xs * xs).sum(-1, keepdim=True)
    stab = proj.amax(dim=stabilise_over, keepdim=True) if stabilise_over else 0.0
    return (torch.exp(proj - sq - stab) + eps) / math.sqrt(m)


def test_linear_form_equals_explicit_kernel_form():
    torch.manual_seed(0)
    for eps in (1e-6, 0.0):
        p = cvattn.create("performer", channels=12, num_heads=3, num_features=20, eps=eps).double().eval()
        x = torch.randn(2, 12, 5, 7, dtype=torch.float64)

        def project(conv, x=x):
            y = torch.einsum("oc,ncl->nol", conv.weight[:, :, 0, 0], x.flatten(2))  # (N, C, L)
            return y.reshape(2, 3, 4, 35).transpose(2, 3)  # (N, heads, L, d)

        q, k, v = project(p.query), project(p.key), project(p.value)
        w = p.projection_matrix
        if eps:  # the official stabilisers: per query, and over all keys of a head
            phi_q, phi_k = _phi(q, w, eps, (-1,)), _phi(k, w, eps, (-2, -1))
        else:  # without eps the stabilisers cancel: the plain features give the same attention
            phi_q, phi_k = _phi(q, w, 0.0, None), _phi(k, w, 0.0, None)
        a = phi_q @ phi_k.transpose(-2, -1)  # explicit (L x L) kernel matrix
        out = (a @ v) / a.sum(-1, keepdim=True)
        out = out.transpose(2, 3).reshape(2, 12, 35)
        y = x + torch.einsum("oc,ncl->nol", p.proj.weight[:, :, 0, 0], out).reshape(2, 12, 5, 7)
        torch.testing.assert_close(p(x), y)


def test_estimate_approaches_exact_softmax_attention():
    gen = torch.Generator().manual_seed(0)
    d, length = 4, 40
    q = 0.6 * torch.randn(2, length, d, generator=gen, dtype=torch.float64)
    k = 0.6 * torch.randn(2, length, d, generator=gen, dtype=torch.float64)
    v = torch.randn(2, length, 3, generator=gen, dtype=torch.float64)
    logits = q @ k.transpose(1, 2) / math.sqrt(d)
    attn = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)
    exact = attn @ v

    def mean_error(m):
        errors = []
        for seed in range(4):
            w = orthogonal_random_matrix(m, d, generator=torch.Generator().manual_seed(seed)).double()
            errors.append((favor_attention(q, k, v, w) - exact).abs().mean())
        return sum(errors) / len(errors)

    few, many = mean_error(16), mean_error(1 << 16)
    assert many < 0.02 and many < few / 8


def test_redraw_changes_projections_and_eval_stays_deterministic():
    p = cvattn.create("performer", channels=16, num_heads=2, num_features=32).eval()
    x = torch.randn(1, 16, 6, 5)
    before = p.projection_matrix.clone()
    assert torch.equal(p(x), p(x))
    p.redraw_projection_matrix(torch.Generator().manual_seed(3))
    assert p.projection_matrix.shape == before.shape and not torch.equal(p.projection_matrix, before)
    again = p.projection_matrix.clone()
    p.redraw_projection_matrix(torch.Generator().manual_seed(3))
    assert torch.equal(p.projection_matrix, again)
