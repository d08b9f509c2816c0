import math

import torch
import torch.nn.functional as F

import cvattn


def _count(c, qk, k):
    n = c * (2 * qk + c) + (2 * qk + c)  # q, k (qk each) and v (C) with bias
    n += c * c + c  # W_o
    if k:
        n += k * k * c + c  # depthwise LCE
    return n


def test_parameter_count_closed_form():
    for kw, (c, qk, k) in [
        ({"channels": 64, "num_heads": 2, "n_win": 7, "topk": 4}, (64, 64, 3)),
        ({"channels": 96, "num_heads": 3, "qk_dim": 48, "side_dwconv": 5}, (96, 48, 5)),
        ({"channels": 32, "num_heads": 1, "side_dwconv": 0}, (32, 32, 0)),
    ]:
        m = cvattn.create("biformer", **kw)
        assert sum(p.numel() for p in m.parameters()) == _count(c, qk, k)


def _softmax(z):
    e = (z - z.max(-1, keepdim=True).values).exp()
    return e / e.sum(-1, keepdim=True)


def _reference(mod, x, routed=True):
    """Region by region from the paper's equations; ``routed=False``: every region sees every region."""
    n, c, hh, ww = x.shape
    s, heads, qk, top = mod.n_win, mod.num_heads, mod.qk_dim, mod.topk
    hp, wp = -(-hh // s) * s, -(-ww // s) * s
    rh, rw = hp // s, wp // s
    xp = torch.zeros(n, hp, wp, c, dtype=x.dtype)
    xp[:, :hh, :ww] = x.permute(0, 2, 3, 1)
    qkv = xp @ mod.qkv.weight.T + mod.qkv.bias
    q, k, v = qkv[..., :qk], qkv[..., qk : 2 * qk], qkv[..., 2 * qk :]
    boxes = [(i * rh, j * rw) for i in range(s) for j in range(s)]  # regions, row-major

    def pix(t, r):
        i, j = boxes[r]
        return t[:, i : i + rh, j : j + rw].reshape(n, rh * rw, -1)

    q_r = torch.stack([pix(q, r).mean(1) for r in range(s * s)], 1)  # (N, S^2, qk)
    k_r = torch.stack([pix(k, r).mean(1) for r in range(s * s)], 1)
    adjacency = torch.einsum("nic,njc->nij", q_r, k_r)
    out = torch.zeros(n, hp, wp, c, dtype=x.dtype)
    dq, dv = qk // heads, c // heads
    for b in range(n):
        for r in range(s * s):
            chosen = adjacency[b, r].argsort(descending=True)[:top].tolist() if routed else list(range(s * s))
            keys = torch.cat([pix(k, j)[b] for j in chosen])  # (k * L, qk)
            vals = torch.cat([pix(v, j)[b] for j in chosen])
            qr = pix(q, r)[b]
            o = torch.cat(
                [
                    _softmax(qr[:, g * dq : (g + 1) * dq] @ keys[:, g * dq : (g + 1) * dq].T / math.sqrt(qk))
                    @ vals[:, g * dv : (g + 1) * dv]
                    for g in range(heads)
                ],
                -1,
            )
            i, j = boxes[r]
            out[b, i : i + rh, j : j + rw] = o.reshape(rh, rw, c)
    lce = F.conv2d(v.permute(0, 3, 1, 2), mod.lepe.weight, mod.lepe.bias, padding=mod.lepe.padding, groups=c)
    y = (out + lce.permute(0, 2, 3, 1)) @ mod.wo.weight.T + mod.wo.bias
    return y[:, :hh, :ww].permute(0, 3, 1, 2)


def test_matches_reference_on_a_padded_map():
    torch.manual_seed(0)
    x = torch.randn(2, 12, 7, 8, dtype=torch.float64)
    for kw in ({"qk_dim": 12, "side_dwconv": 3}, {"qk_dim": 8, "side_dwconv": 5}):
        mod = cvattn.create("biformer", channels=12, num_heads=2, n_win=3, topk=3, **kw).double().eval()
        torch.testing.assert_close(mod(x), _reference(mod, x))


def test_routing_to_every_region_is_global_attention():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 6, 5, dtype=torch.float64)
    mod = cvattn.create("biformer", channels=8, num_heads=2, n_win=2, topk=4).double().eval()
    torch.testing.assert_close(mod(x), _reference(mod, x, routed=False))
