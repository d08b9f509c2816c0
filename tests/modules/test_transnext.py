import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, h, k, qkv_bias=True):
    n = 5 * c * c + 5 * c  # q, kv, proj (Linear with bias) and the 1x1 sr conv
    if not qkv_bias:
        n -= 3 * c
    n += c + 2 * c  # query embedding (h x d = C) and the LayerNorm of the pooled tokens
    n += h  # temperature per head
    n += (2 * 512 + 512) + (512 * h + h)  # continuous position bias MLP
    n += h * k * k + c * k * k + h * k * k  # window position bias, learnable tokens, learnable bias
    return n


def test_parameter_count_closed_form():
    for c, h, k, bias in [(64, 2, 3, True), (96, 4, 5, False)]:
        m = cvattn.create("transnext", channels=c, num_heads=h, window_size=k, qkv_bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(c, h, k, bias)


def _centres(n, p):
    """Mean index of each adaptive-pooling bin (the pooled key's position along one axis)."""
    return [
        sum(range(math.floor(i * n / p), math.ceil((i + 1) * n / p)))
        / (math.ceil((i + 1) * n / p) - math.floor(i * n / p))
        for i in range(p)
    ]


def _reference(m, x, heads, k, sr):
    b, c, hh, ww = x.shape
    d = c // heads
    ph, pw = hh // sr, ww // sr
    t = x.flatten(2).transpose(1, 2)  # (B, N, C)
    q = (t @ m.q.weight.T + m.q.bias).reshape(b, -1, heads, d)
    kv = t @ m.kv.weight.T + m.kv.bias
    key, val = kv[..., :c].reshape(b, hh, ww, heads, d), kv[..., c:].reshape(b, hh, ww, heads, d)
    unit = lambda z: z / z.norm(dim=-1, keepdim=True).clamp_min(1e-12)  # noqa: E731
    q_n, key = unit(q), unit(key)
    pooled = (
        F.adaptive_avg_pool2d(F.gelu(F.conv2d(x, m.sr.weight, m.sr.bias)), (ph, pw))
        .flatten(2)
        .transpose(1, 2)
    )
    pooled = F.layer_norm(pooled, (c,), m.norm.weight, m.norm.bias, m.norm.eps)
    kvp = pooled @ m.kv.weight.T + m.kv.bias
    k_pool, v_pool = unit(kvp[..., :c].reshape(b, -1, heads, d)), kvp[..., c:].reshape(b, -1, heads, d)
    ch, cw = _centres(hh, ph), _centres(ww, pw)
    tau = F.softplus(m.temperature.flatten())  # (h,)
    out = torch.zeros(b, hh * ww, heads, d, dtype=x.dtype)
    r = k // 2
    for i in range(hh):
        for j in range(ww):
            p = i * ww + j
            offsets = [(di, dj) for di in range(-r, r + 1) for dj in range(-r, r + 1)]
            valid = [0 <= i + di < hh and 0 <= j + dj < ww for di, dj in offsets]
            scale = tau * math.log(sum(valid) + ph * pw)  # (h,)
            qs = (q_n[:, p] + m.query_embedding[:, 0]) * scale[:, None]  # (B, h, d)
            logits, values = [], []
            for o, ((di, dj), ok) in enumerate(zip(offsets, valid, strict=True)):
                if ok:
                    kk, vv = key[:, i + di, j + dj], val[:, i + di, j + dj]
                    logits.append((qs * kk).sum(-1) + m.relative_pos_bias_local[:, o])
                else:
                    logits.append(torch.full((b, heads), float("-inf"), dtype=x.dtype))
                    vv = torch.zeros(b, heads, d, dtype=x.dtype)
                values.append(vv)
            for u in range(ph):
                for v in range(pw):
                    rel = torch.tensor(
                        [(i - ch[u]) / (hh - 1) * 8, (j - cw[v]) / (ww - 1) * 8], dtype=x.dtype
                    )
                    rel = torch.sign(rel) * torch.log2(rel.abs() + 1) / 3
                    bias = (
                        F.relu(rel @ m.cpb_fc1.weight.T + m.cpb_fc1.bias) @ m.cpb_fc2.weight.T
                        + m.cpb_fc2.bias
                    )
                    logits.append((qs * k_pool[:, u * pw + v]).sum(-1) + bias)
            z = torch.stack(logits, -1)  # (B, h, L + P)
            a = torch.exp(z - z.amax(-1, keepdim=True))
            a = a / a.sum(-1, keepdim=True)
            a_win = (
                a[..., : k * k]
                + torch.einsum("bhd,hdl->bhl", q_n[:, p], m.learnable_tokens)
                + m.learnable_bias[:, 0]
            )
            y = torch.einsum("bhl,lbhd->bhd", a_win, torch.stack(values))
            y = y + torch.einsum("bhp,bphd->bhd", a[..., k * k :], v_pool)
            out[:, p] = y
    y = out.reshape(b, -1, c) @ m.proj.weight.T + m.proj.bias
    return y.transpose(1, 2).reshape(x.shape)


def test_matches_reference_on_non_square_input():
    torch.manual_seed(0)
    m = cvattn.create("transnext", channels=8, num_heads=2, window_size=3, sr_ratio=2).double()
    with torch.no_grad():
        for p in (m.relative_pos_bias_local, m.learnable_bias, m.learnable_tokens, m.query_embedding):
            p.normal_(0, 0.3)  # non-trivial biases and tokens
    x = torch.randn(2, 8, 5, 7, dtype=torch.float64)  # pooled to 2 x 3, uneven bins
    torch.testing.assert_close(m(x), _reference(m, x, 2, 3, 2))


def test_window_keys_outside_the_map_get_no_weight():
    """Only valid window keys and pooled keys share the softmax: a corner query's weights sum to one over them."""
    torch.manual_seed(0)
    m = cvattn.create("transnext", channels=8, num_heads=2, sr_ratio=2).eval()
    captured = {}
    m.attn_drop.register_forward_hook(lambda mod, inp, out: captured.setdefault("attn", out))
    with torch.no_grad():
        m(torch.randn(1, 8, 6, 6))
    attn = captured["attn"]  # (1, h, N, 9 + 9)
    corner = attn[0, :, 0]  # query (0, 0): window offsets with di or dj = -1 fall outside
    outside = [0, 1, 2, 3, 6]
    assert torch.count_nonzero(corner[:, outside]) == 0
    torch.testing.assert_close(corner.sum(-1), torch.ones(2))


def test_bad_arguments_raise_value_error():
    for kwargs in [{"num_heads": 3}, {"window_size": 4}, {"sr_ratio": 0}, {"pool_size": 0}]:
        with pytest.raises(ValueError):
            cvattn.create("transnext", channels=16, **kwargs)
