import math

import torch

import cvattn


def _count(c, h, m, qkv_bias=True):
    # qkv (3C x C, bias 3C if qkv_bias) + proj (C x C + C) + relative position bias table ((2M-1)^2 x h)
    return 3 * c * c + (3 * c if qkv_bias else 0) + c * c + c + (2 * m - 1) ** 2 * h


def test_parameter_count_closed_form():
    for id, c, h, m, bias in [
        ("swin", 96, 3, 7, True),
        ("swin-shifted", 64, 4, 5, False),
        ("swin", 32, 1, 2, True),
    ]:
        mod = cvattn.create(id, channels=c, num_heads=h, window_size=m, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, h, m, bias)


def _reference(mod, x):
    """Loops over windows; explicit softmax; bias B[i, j] = table[(dy + M-1) * (2M-1) + dx + M-1]."""
    n, c, hh, ww = x.shape
    m, s, heads = mod.window_size, mod.shift_size, mod.num_heads
    d = c // heads
    hp, wp = math.ceil(hh / m) * m, math.ceil(ww / m) * m
    xp = torch.zeros(n, c, hp, wp, dtype=x.dtype)
    xp[:, :, :hh, :ww] = x
    # rolled frame: position p holds original position (p + s) mod Hp; a token "wrapped" if it came from the
    # first s rows/cols; tokens that differ in wrapping (in either axis) must not see each other
    rows = (torch.arange(hp) + s) % hp
    cols = (torch.arange(wp) + s) % wp
    rolled = xp[:, :, rows][:, :, :, cols]
    wrap_r = (torch.arange(hp) >= hp - s) if s else torch.zeros(hp, dtype=torch.bool)
    wrap_c = (torch.arange(wp) >= wp - s) if s else torch.zeros(wp, dtype=torch.bool)
    table = mod.relative_position_bias_table
    wq, bq = mod.qkv.weight, mod.qkv.bias
    out_rolled = torch.zeros_like(rolled)
    for bi in range(n):
        for r0 in range(0, hp, m):
            for c0 in range(0, wp, m):
                pos = [(r0 + i, c0 + j) for i in range(m) for j in range(m)]
                t = torch.stack([rolled[bi, :, p, q] for p, q in pos])  # (L, C)
                qkv = t @ wq.T + (bq if bq is not None else 0)
                q, k, v = qkv[:, :c], qkv[:, c : 2 * c], qkv[:, 2 * c :]
                heads_out = []
                for hd in range(heads):
                    sl = slice(hd * d, (hd + 1) * d)
                    logits = (q[:, sl] @ k[:, sl].T) * mod.scale
                    for a, (pa, qa) in enumerate(pos):
                        for b, (pb, qb) in enumerate(pos):
                            dy, dx = pa - pb, qa - qb
                            logits[a, b] += table[(dy + m - 1) * (2 * m - 1) + dx + m - 1, hd]
                            if wrap_r[pa] != wrap_r[pb] or wrap_c[qa] != wrap_c[qb]:
                                logits[a, b] -= 100.0
                    e = torch.exp(logits - logits.max(-1, keepdim=True).values)
                    heads_out.append((e / e.sum(-1, keepdim=True)) @ v[:, sl])
                y = torch.cat(heads_out, -1) @ mod.proj.weight.T + mod.proj.bias
                for a, (p, q) in enumerate(pos):
                    out_rolled[bi, :, p, q] = y[a]
    inv_r = (torch.arange(hp) - s) % hp
    inv_c = (torch.arange(wp) - s) % wp
    out = out_rolled[:, :, inv_r][:, :, :, inv_c]
    return out[:, :, :hh, :ww]


def test_matches_reference_padded_non_square():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 5, 7, dtype=torch.float64)  # pads to 6 x 9 for M = 3
    for id, kw in [
        ("swin", {}),
        ("swin-shifted", {"shift_size": 1}),
        ("swin", {"qkv_bias": False, "qk_scale": 0.2}),
    ]:
        mod = cvattn.create(id, channels=8, num_heads=2, window_size=3, **kw).double().eval()
        with torch.no_grad():
            mod.relative_position_bias_table.normal_()
            torch.testing.assert_close(mod(x), _reference(mod, x))


def test_windows_and_shift_mask_limit_what_a_token_sees():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 8, 8)
    wmsa = cvattn.create("swin", channels=8, num_heads=2, window_size=4).eval()
    swmsa = cvattn.create("swin-shifted", channels=8, num_heads=2, window_size=4, shift_size=2).eval()
    x2 = x.clone()
    x2[:, :, 0, 0] += 1.0
    with torch.no_grad():
        changed = (wmsa(x2) - wmsa(x)).abs().sum(1)[0] > 0
        # W-MSA: only the top-left window changes
        assert changed[:4, :4].all() and not changed[4:].any() and not changed[:, 4:].any()
        changed = (swmsa(x2) - swmsa(x)).abs().sum(1)[0] > 1e-6
    # SW-MSA: the roll puts pixel (0, 0) in one window with the bottom and right border pixels, but the mask
    # keeps them apart; it still sees its shifted-window neighbours (0..1 x 0..1)
    assert changed[:2, :2].all()
    assert not changed[2:].any() and not changed[:, 2:].any()
