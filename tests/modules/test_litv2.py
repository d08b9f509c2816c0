import torch

import cvattn


def _count(c, heads, alpha, s, bias):
    d = c // heads
    lo = heads if s == 1 else int(heads * alpha)
    hi = heads - lo
    n = 0
    if lo:
        n += 3 * c * lo * d + (3 * lo * d if bias else 0) + (lo * d) ** 2 + lo * d  # l_q, l_kv, l_proj
    if hi:
        n += 3 * c * hi * d + (3 * hi * d if bias else 0) + (hi * d) ** 2 + hi * d  # h_qkv, h_proj
    return n


def test_parameter_count_closed_form():
    for c, heads, alpha, s, bias in [(64, 8, 0.5, 2, False), (96, 6, 0.9, 2, True), (32, 4, 0.5, 1, False)]:
        m = cvattn.create("litv2", channels=c, num_heads=heads, alpha=alpha, window_size=s, qkv_bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, alpha, s, bias)


def _softmax_attend(q, k, v, scale):
    logits = torch.einsum("...qd,...kd->...qk", q, k) * scale
    attn = torch.exp(logits - logits.amax(-1, keepdim=True))
    return torch.einsum("...qk,...kd->...qd", attn / attn.sum(-1, keepdim=True), v)


def _linear(x, layer):
    y = x @ layer.weight.T
    return y if layer.bias is None else y + layer.bias


def _reference(m, x):
    n, c, hh, ww = x.shape
    s, d = m.ws, m.head_dim
    hp, wp = -(-hh // s) * s, -(-ww // s) * s
    xp = torch.zeros(n, hp, wp, c, dtype=x.dtype)
    xp[:, :hh, :ww] = x.permute(0, 2, 3, 1)
    out = []
    if m.h_heads:  # Hi-Fi: attention inside each s x s window, one window at a time
        hi = torch.zeros(n, hp, wp, m.h_dim, dtype=x.dtype)
        for i in range(0, hp, s):
            for j in range(0, wp, s):
                win = xp[:, i : i + s, j : j + s].reshape(n, s * s, c)
                qkv = _linear(win, m.h_qkv).reshape(n, s * s, 3, m.h_heads, d)
                q, k, v = (qkv[:, :, t].transpose(1, 2) for t in range(3))
                y = _softmax_attend(q, k, v, m.scale).transpose(1, 2).reshape(n, s, s, m.h_dim)
                hi[:, i : i + s, j : j + s] = y
        out.append(_linear(hi, m.h_proj))
    if m.l_heads:  # Lo-Fi: every position to the mean of each window
        pooled = xp.reshape(n, hp // s, s, wp // s, s, c).mean((2, 4)).reshape(n, -1, c)
        q = _linear(xp.reshape(n, -1, c), m.l_q).reshape(n, -1, m.l_heads, d).transpose(1, 2)
        kv = _linear(pooled, m.l_kv).reshape(n, -1, 2, m.l_heads, d)
        k, v = kv[:, :, 0].transpose(1, 2), kv[:, :, 1].transpose(1, 2)
        y = _softmax_attend(q, k, v, m.scale).transpose(1, 2).reshape(n, hp, wp, m.l_dim)
        out.append(_linear(y, m.l_proj))
    return torch.cat(out, -1)[:, :hh, :ww].permute(0, 3, 1, 2)


def test_matches_reference_on_padded_non_square_input():
    torch.manual_seed(0)
    for kw in [
        dict(num_heads=4, window_size=2, alpha=0.5),
        dict(num_heads=4, window_size=3, alpha=0.75, qkv_bias=True),
    ]:
        m = cvattn.create("litv2", channels=16, **kw).double().eval()
        x = torch.randn(2, 16, 7, 5, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_head_split_and_window_one_is_global_attention():
    m = cvattn.create("litv2", channels=64, num_heads=8, alpha=0.9)
    assert (m.l_heads, m.h_heads) == (7, 1)
    m = cvattn.create("litv2", channels=16, num_heads=2, window_size=1, alpha=0.0).double().eval()
    assert (m.l_heads, m.h_heads) == (2, 0)  # s = 1: every head is a global Lo-Fi head
    x = torch.randn(1, 16, 3, 5, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_hifi_channels_only_see_their_window():
    torch.manual_seed(2)
    m = cvattn.create("litv2", channels=16, num_heads=4, window_size=2, alpha=0.5).double().eval()
    x = torch.randn(1, 16, 4, 4, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 2:, 2:] += 1.0  # change the bottom-right window only
    hi = slice(0, m.h_dim)  # the Hi-Fi outputs come first
    torch.testing.assert_close(m(x)[:, hi, :2], m(x2)[:, hi, :2])
    assert not torch.allclose(m(x)[:, m.h_dim :, :2], m(x2)[:, m.h_dim :, :2])  # Lo-Fi is global
