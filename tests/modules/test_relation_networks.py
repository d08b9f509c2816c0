import math

import pytest
import torch

import cvattn


def _count(c, heads, key_dim, pos_dim):
    n = pos_dim * heads + heads  # W_G: pos_dim -> N_r (with bias)
    n += 2 * (c * key_dim + key_dim)  # W_Q, W_K (with bias)
    n += heads * (c // heads) * c + c  # W_V^r: N_r grouped maps C -> C / N_r (with bias)
    return n


def test_parameter_count_closed_form():
    for c, heads, key_dim, pos_dim in [(64, 16, None, 64), (48, 4, 32, 16)]:
        m = cvattn.create("relation-networks", channels=c, num_heads=heads, key_dim=key_dim, pos_dim=pos_dim)
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, key_dim or c, pos_dim)


def _reference(m, x):
    """The official per-box computation, written out for unit boxes at the pixel cells."""
    n, c, h, w = x.shape
    heads, dk = m.num_heads, m.key_dim // m.num_heads
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    xmin = xmax = cols.flatten().double()
    ymin = ymax = rows.flatten().double()
    bw, bh = xmax - xmin + 1.0, ymax - ymin + 1.0
    cx, cy = 0.5 * (xmin + xmax), 0.5 * (ymin + ymax)
    dx = torch.log(torch.clamp(((cx[:, None] - cx[None, :]) / bw[:, None]).abs(), min=1e-3))
    dy = torch.log(torch.clamp(((cy[:, None] - cy[None, :]) / bh[:, None]).abs(), min=1e-3))
    dw = torch.log(bw[:, None] / bw[None, :])
    dh = torch.log(bh[:, None] / bh[None, :])
    pos = torch.stack([dx, dy, dw, dh], dim=2)  # (L, L, 4)
    k8 = m.pos_dim // 8
    dim_mat = torch.tensor([m.wave_length ** (8.0 / m.pos_dim * i) for i in range(k8)], dtype=torch.float64)
    div = 100.0 * pos[..., None] / dim_mat  # (L, L, 4, pos_dim / 8)
    emb = torch.cat([div.sin(), div.cos()], dim=3).reshape(h * w, h * w, m.pos_dim)
    w_g = torch.relu(emb @ m.pos_fc.weight.T + m.pos_fc.bias)  # (L, L, N_r)
    out = torch.empty_like(x)
    for b in range(n):
        f = x[b].reshape(c, h * w).T  # (L, C)
        q = (f @ m.query.weight.T + m.query.bias).reshape(-1, heads, dk)
        k = (f @ m.key.weight.T + m.key.bias).reshape(-1, heads, dk)
        w_a = torch.einsum("nrd,mrd->nmr", q, k) / math.sqrt(dk)  # (L_query, L_key, N_r)
        logits = torch.log(torch.clamp(w_g, min=1e-6)) + w_a
        weight = torch.exp(logits - logits.amax(1, keepdim=True))
        weight = weight / weight.sum(1, keepdim=True)
        f_r = torch.einsum("nmr,mc->nrc", weight, f)  # (L, N_r, C)
        wv = m.linear_out.weight[:, :, 0, 0].reshape(heads, c // heads, c)
        rel = torch.einsum("roc,nrc->nro", wv, f_r).reshape(h * w, c) + m.linear_out.bias
        out[b] = (f + rel).T.reshape(c, h, w)
    return out


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("relation-networks", channels=16, num_heads=4, key_dim=8).double().eval()
    with torch.no_grad():
        m.pos_fc.bias.add_(
            0.5
        )  # keep most geometric weights positive, so both branches of max(., 1e-6) occur
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_geometric_weight_is_symmetric_and_translation_invariant():
    torch.manual_seed(0)
    m = cvattn.create("relation-networks", channels=8, num_heads=2).double()
    bias = m._geometric_bias(4, 6, torch.zeros(1, dtype=torch.float64))  # (N_r, 24, 24)
    torch.testing.assert_close(bias, bias.transpose(1, 2))
    grid = bias.reshape(2, 4, 6, 4, 6)
    # the pair (row 0, col 0) -> (row 1, col 2) equals (row 2, col 3) -> (row 3, col 5)
    torch.testing.assert_close(grid[:, 0, 0, 1, 2], grid[:, 2, 3, 3, 5])


def test_bad_arguments_raise():
    for kwargs in ({"num_heads": 3}, {"key_dim": 10}, {"pos_dim": 12}, {"wave_length": 0}):
        with pytest.raises(ValueError):
            cvattn.create("relation-networks", channels=16, **{"num_heads": 4, **kwargs})
