import math

import torch

import cvattn


def _softmax_attention(q, k, v, scale):
    logits = torch.einsum("qd,kd->qk", q, k) * scale
    attn = torch.exp(logits - logits.amax(-1, keepdim=True))
    return (attn / attn.sum(-1, keepdim=True)) @ v


def test_lsa_parameter_count_closed_form():
    for c, h, b in [(64, 2, True), (96, 3, False)]:
        m = cvattn.create("twins-lsa", channels=c, num_heads=h, qkv_bias=b)
        n = 3 * c * c + 3 * c * int(b) + c * c + c  # qkv (+ bias), proj with bias
        assert sum(p.numel() for p in m.parameters()) == n


def test_gsa_parameter_count_closed_form():
    for c, h, s, b in [(128, 4, 4, True), (64, 2, 1, False)]:
        m = cvattn.create("twins-gsa", channels=c, num_heads=h, sr_ratio=s, qkv_bias=b)
        n = 4 * c * c + c + 3 * c * int(b) + (s * s * c * c + 3 * c if s > 1 else 0)
        assert sum(p.numel() for p in m.parameters()) == n


def _lsa_reference(m, x):
    """LSA from the paper: zero-pad to whole windows, attend among the real pixels of each window, crop."""
    n, c, hh, ww = x.shape
    k, h, d = m.window_size, m.num_heads, c // m.num_heads
    hp, wp = math.ceil(hh / k) * k, math.ceil(ww / k) * k
    t = torch.zeros(n, hp, wp, c, dtype=x.dtype)
    t[:, :hh, :ww] = x.permute(0, 2, 3, 1)
    qkv = t @ m.qkv.weight.T + m.qkv.bias
    q, kk, v = qkv[..., :c], qkv[..., c : 2 * c], qkv[..., 2 * c :]
    out = torch.zeros(n, hh, ww, c, dtype=x.dtype)
    for b in range(n):
        for i0 in range(0, hh, k):
            for j0 in range(0, ww, k):
                rows, cols = range(i0, min(i0 + k, hh)), range(j0, min(j0 + k, ww))
                idx = [(i, j) for i in rows for j in cols]  # the real pixels of this window
                for head in range(h):
                    sl = slice(head * d, (head + 1) * d)
                    qw = torch.stack([q[b, i, j, sl] for i, j in idx])
                    kw = torch.stack([kk[b, i, j, sl] for i, j in idx])
                    vw = torch.stack([v[b, i, j, sl] for i, j in idx])
                    yw = _softmax_attention(qw, kw, vw, d**-0.5)
                    for r, (i, j) in enumerate(idx):
                        out[b, i, j, sl] = yw[r]
    y = out @ m.proj.weight.T + m.proj.bias
    return y.permute(0, 3, 1, 2)


def test_lsa_matches_reference_with_padding():
    torch.manual_seed(0)
    m = cvattn.create("twins-lsa", channels=8, num_heads=2, window_size=3, qkv_bias=True).double().eval()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.3)
    for shape in [(2, 8, 7, 8), (1, 8, 6, 5), (1, 8, 6, 6)]:  # both sides padded, right side only, none
        x = torch.randn(shape, dtype=torch.float64)
        torch.testing.assert_close(m(x), _lsa_reference(m, x))


def test_lsa_keeps_attention_inside_windows_and_ignores_padding():
    torch.manual_seed(1)
    m = cvattn.create("twins-lsa", channels=8, num_heads=2, window_size=4, qkv_bias=True).double().eval()
    x = torch.randn(1, 8, 8, 10, dtype=torch.float64)  # windows: rows 0-3 / 4-7, columns 0-3 / 4-7 / 8-9
    x2 = x.clone()
    x2[:, :, 1, 2] += 1.0
    changed = (m(x) - m(x2)).abs().amax(1)[0] > 0
    expected = torch.zeros(8, 10, dtype=torch.bool)
    expected[:4, :4] = True
    assert torch.equal(changed, expected)
    # the last, half-filled window column attends only to its own real pixels, as if it stood alone
    torch.testing.assert_close(m(x)[..., 8:], m(x[..., 8:]))


def _gsa_reference(m, x):
    n, c, hh, ww = x.shape
    h, s, d = m.num_heads, m.sr_ratio, c // m.num_heads
    t = x.permute(0, 2, 3, 1).reshape(n, hh * ww, c)
    q = t @ m.q.weight.T + m.q.bias
    hr, wr = hh // s, ww // s
    patches = x[:, :, : hr * s, : wr * s].reshape(n, c, hr, s, wr, s)
    red = (torch.einsum("ncaibj,ocij->nabo", patches, m.sr.weight) + m.sr.bias).reshape(n, hr * wr, c)
    mu, var = red.mean(-1, keepdim=True), red.var(-1, unbiased=False, keepdim=True)
    red = (red - mu) / torch.sqrt(var + m.norm.eps) * m.norm.weight + m.norm.bias
    kv = red @ m.kv.weight.T + m.kv.bias
    out = torch.zeros(n, hh * ww, c, dtype=x.dtype)
    for b in range(n):
        for head in range(h):
            sl = slice(head * d, (head + 1) * d)
            out[b, :, sl] = _softmax_attention(q[b, :, sl], kv[b, :, sl], kv[b, :, c:][:, sl], d**-0.5)
    y = out @ m.proj.weight.T + m.proj.bias
    return y.reshape(n, hh, ww, c).permute(0, 3, 1, 2)


def test_gsa_matches_reference_on_a_size_that_does_not_divide():
    torch.manual_seed(2)
    m = cvattn.create("twins-gsa", channels=8, num_heads=2, sr_ratio=3, qkv_bias=True).double().eval()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(2, 8, 7, 11, dtype=torch.float64)
    torch.testing.assert_close(m(x), _gsa_reference(m, x))
