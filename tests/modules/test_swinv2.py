import math

import torch

import cvattn


def _count(c, h, m, qkv_bias=True, hidden=512):
    # qkv weight 3C x C (no bias) + q and v biases + proj C x C + C + logit scale h + CPB MLP 2->hidden->h
    return 3 * c * c + (2 * c if qkv_bias else 0) + c * c + c + h + (2 * hidden + hidden) + hidden * h


def test_parameter_count_closed_form():
    for id, c, h, m, bias in [("swinv2", 96, 3, 7, True), ("swinv2-shifted", 64, 4, 8, False)]:
        mod = cvattn.create(id, channels=c, num_heads=h, window_size=m, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, h, m, bias)


def _cpb(mod, dy, dx, span):
    """16 * sigmoid(MLP(f(dy), f(dx))) with f(t) = sign(t) log2(1 + |8 t / span|) / log2(8)."""

    def f(t):
        t = 8.0 * t / span
        return math.copysign(math.log2(1 + abs(t)), t) / 3.0 if t else 0.0

    w1, b1, w2 = mod.cpb_mlp[0].weight, mod.cpb_mlp[0].bias, mod.cpb_mlp[2].weight
    u = torch.tensor([f(dy), f(dx)], dtype=w1.dtype)
    return 16 * torch.sigmoid(torch.relu(w1 @ u + b1) @ w2.T)  # (h,)


def _reference(mod, x, pretrained=0):
    n, c, hh, ww = x.shape
    m, s, heads = mod.window_size, mod.shift_size, mod.num_heads
    d = c // heads
    span = (pretrained or m) - 1
    hp, wp = math.ceil(hh / m) * m, math.ceil(ww / m) * m
    xp = torch.zeros(n, c, hp, wp, dtype=x.dtype)
    xp[:, :, :hh, :ww] = x
    rows, cols = (torch.arange(hp) + s) % hp, (torch.arange(wp) + s) % wp
    rolled = xp[:, :, rows][:, :, :, cols]
    wrap_r = torch.arange(hp) >= hp - s if s else torch.zeros(hp, dtype=torch.bool)
    wrap_c = torch.arange(wp) >= wp - s if s else torch.zeros(wp, dtype=torch.bool)
    wq, wk, wv = mod.qkv.weight.split(c)
    bq = mod.q_bias if mod.q_bias is not None else torch.zeros(c, dtype=x.dtype)
    bv = mod.v_bias if mod.v_bias is not None else torch.zeros(c, dtype=x.dtype)
    inv_tau = torch.exp(
        torch.minimum(mod.logit_scale.flatten(), torch.tensor(math.log(100.0), dtype=x.dtype))
    )
    pos = [(i, j) for i in range(m) for j in range(m)]
    bias = torch.stack([torch.stack([_cpb(mod, a[0] - b[0], a[1] - b[1], span) for b in pos]) for a in pos])
    out_rolled = torch.zeros_like(rolled)
    for bi in range(n):
        for r0 in range(0, hp, m):
            for c0 in range(0, wp, m):
                t = torch.stack([rolled[bi, :, r0 + i, c0 + j] for i, j in pos])  # (L, C)
                q, k, v = t @ wq.T + bq, t @ wk.T, t @ wv.T + bv
                outs = []
                for hd in range(heads):
                    sl = slice(hd * d, (hd + 1) * d)
                    qn = q[:, sl] / q[:, sl].norm(dim=-1, keepdim=True).clamp_min(1e-12)
                    kn = k[:, sl] / k[:, sl].norm(dim=-1, keepdim=True).clamp_min(1e-12)
                    logits = qn @ kn.T * inv_tau[hd] + bias[:, :, hd]
                    for a, (ia, ja) in enumerate(pos):
                        for b, (ib, jb) in enumerate(pos):
                            if wrap_r[r0 + ia] != wrap_r[r0 + ib] or wrap_c[c0 + ja] != wrap_c[c0 + jb]:
                                logits[a, b] -= 100.0
                    e = torch.exp(logits - logits.max(-1, keepdim=True).values)
                    outs.append(e / e.sum(-1, keepdim=True) @ v[:, sl])
                y = torch.cat(outs, -1) @ mod.proj.weight.T + mod.proj.bias
                for a, (i, j) in enumerate(pos):
                    out_rolled[bi, :, r0 + i, c0 + j] = y[a]
    out = out_rolled[:, :, (torch.arange(hp) - s) % hp][:, :, :, (torch.arange(wp) - s) % wp]
    return out[:, :, :hh, :ww]


def test_matches_reference_padded_non_square():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 5, 7, dtype=torch.float64)  # pads to 6 x 9 for M = 3
    cases = [
        ("swinv2", {}),
        ("swinv2-shifted", {"shift_size": 1}),
        ("swinv2", {"qkv_bias": False, "pretrained_window_size": 2}),
    ]
    for id, kw in cases:
        mod = cvattn.create(id, channels=8, num_heads=2, window_size=3, cpb_dim=16, **kw).double().eval()
        with torch.no_grad():
            for p in mod.parameters():
                p.normal_()
            mod.logit_scale[0] = 6.0  # above the clamp at log(100)
        # the log-spaced coordinate table is computed in float32 (as officially), the reference in float64
        want = _reference(mod, x, kw.get("pretrained_window_size", 0))
        torch.testing.assert_close(mod(x), want, rtol=1e-5, atol=1e-6)


def test_cosine_logits_ignore_query_and_key_scale():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 6, 6)
    mod = cvattn.create("swinv2", channels=8, num_heads=2, window_size=3, qkv_bias=False).eval()
    with torch.no_grad():
        ref = mod(x)
        mod.qkv.weight[:16] *= 7.0  # rescale the query and key projections
        torch.testing.assert_close(mod(x), ref)
        bias = mod.relative_position_bias()
    assert bias.shape == (2, 9, 9) and (bias > 0).all() and (bias < 16).all()
