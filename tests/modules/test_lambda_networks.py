import torch

import cvattn


def _count(c, heads, k, u, r):
    v = c // heads
    projections = c * heads * k + c * k * u + c * v * u  # q, k, v 1x1 without bias
    norms = 2 * heads * k + 2 * v * u  # batch norm of queries and values
    return projections + norms + k * u * r * r  # relative embeddings E


def test_parameter_count_closed_form():
    for c, heads, k, u, r in [(64, 4, 16, 1, 23), (96, 8, 8, 4, 5)]:
        m = cvattn.create("lambda-networks", channels=c, heads=heads, key_dim=k, intra_depth=u, r=r)
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, k, u, r)


def _bn_eval(bn, t):
    return (t - bn.running_mean[:, None]) / torch.sqrt(bn.running_var[:, None] + bn.eps) * bn.weight[
        :, None
    ] + bn.bias[:, None]


def _reference(m, x):
    """y_n = (lambda^c + lambda^p_n)^T q_n per head, with lambda^p_n summed explicitly over the r x r context."""
    n, c, hh, ww = x.shape
    heads, k, u, v, r = m.heads, m.key_dim, m.intra_depth, m.value_dim, m.r
    t = x.reshape(n, c, hh * ww)
    q = _bn_eval(m.norm_q, torch.einsum("oc,ncm->nom", m.to_q.weight[:, :, 0, 0], t)).reshape(
        n, heads, k, hh, ww
    )
    keys = torch.einsum("oc,ncm->nom", m.to_k.weight[:, :, 0, 0], t).reshape(n, u, k, hh * ww)
    keys = torch.exp(keys) / torch.exp(keys).sum(-1, keepdim=True)
    vals = _bn_eval(m.norm_v, torch.einsum("oc,ncm->nom", m.to_v.weight[:, :, 0, 0], t)).reshape(
        n, u, v, hh, ww
    )
    lam_c = torch.einsum("nukm,nuvm->nkv", keys, vals.reshape(n, u, v, -1))
    e = m.embedding[:, :, 0]  # (k, u, r, r)
    y = torch.zeros(n, heads, v, hh, ww, dtype=x.dtype)
    for i in range(hh):
        for j in range(ww):
            lam_p = torch.zeros(n, k, v, dtype=x.dtype)
            for di in range(r):
                for dj in range(r):
                    a, b = i + di - r // 2, j + dj - r // 2
                    if 0 <= a < hh and 0 <= b < ww:
                        lam_p += torch.einsum("ku,nuv->nkv", e[:, :, di, dj], vals[:, :, :, a, b])
            y[:, :, :, i, j] = torch.einsum("nhk,nkv->nhv", q[:, :, :, i, j], lam_c + lam_p)
    return y.reshape(n, c, hh, ww)


def _randomise_norms(m):
    for bn in (m.norm_q, m.norm_v):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.5, 0.5)


def test_matches_reference():
    torch.manual_seed(0)
    for kw, size in [
        ({"heads": 4, "key_dim": 4, "intra_depth": 1, "r": 5}, (6, 9)),
        ({"heads": 2, "key_dim": 3, "intra_depth": 2, "r": 3}, (5, 4)),
    ]:
        m = cvattn.create("lambda-networks", channels=8, **kw).double().eval()
        _randomise_norms(m)
        x = torch.randn(2, 8, *size, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_content_lambda_is_global_and_position_lambda_local():
    # with zero embeddings only the content lambda remains: every position sees the same k x v map, so a
    # change far away still moves every output; with r = 1 the position term reads only the pixel itself
    torch.manual_seed(1)
    m = cvattn.create("lambda-networks", channels=8, heads=2, key_dim=4, r=3).double().eval()
    with torch.no_grad():
        m.embedding.zero_()
    x = torch.randn(1, 8, 6, 6, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 5, 5] += 1.0
    assert not torch.allclose(m(x)[:, :, 0, 0], m(x2)[:, :, 0, 0])
    torch.testing.assert_close(m(x), torch.einsum("nhkm,nkv->nhvm", *_lambda_parts(m, x)).reshape(1, 8, 6, 6))


def _lambda_parts(m, x):
    n = x.size(0)
    q = m.norm_q(m.to_q(x)).reshape(n, m.heads, m.key_dim, -1)
    keys = m.to_k(x).reshape(n, 1, m.key_dim, -1).softmax(-1)
    v = m.norm_v(m.to_v(x)).reshape(n, 1, m.value_dim, -1)
    return q, torch.einsum("nukm,nuvm->nkv", keys, v)
