import torch

import cvattn


def _count_attention(c, qkv_bias=True):
    # q, k, v (3C x C [+ 3C]) + output projection (C x C + C)
    return 3 * c * c + (3 * c if qkv_bias else 0) + c * c + c


def test_parameter_count_closed_form():
    for c, h, bias in [(64, 4, True), (96, 12, False), (8, 2, True)]:
        mod = cvattn.create("vivit", channels=c, num_heads=h, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == 2 * _count_attention(c, bias)
        mod = cvattn.create("vivit-dot-product", channels=c, num_heads=h, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count_attention(c, bias)


def _heads(q, k, v, heads, scale):
    """softmax(q k^T * scale) v per head, explicit; q, k, v (L, C) -> list of (L, d)."""
    d = q.shape[1] // heads
    out = []
    for hd in range(heads):
        sl = slice(hd * d, (hd + 1) * d)
        logits = q[:, sl] @ k[:, sl].T * scale
        e = torch.exp(logits - logits.max(-1, keepdim=True).values)
        out.append(e / e.sum(-1, keepdim=True) @ v[:, sl])
    return out


def _msa(attn, seq, heads, scale):
    c = seq.shape[1]
    qkv = seq @ attn.qkv.weight.T + (attn.qkv.bias if attn.qkv.bias is not None else 0)
    y = torch.cat(_heads(qkv[:, :c], qkv[:, c : 2 * c], qkv[:, 2 * c :], heads, scale), -1)
    return y @ attn.proj.weight.T + attn.proj.bias


def _spatial(mod, z):
    n, c, t, h, w = z.shape
    out = torch.zeros_like(z)
    for b in range(n):
        for f in range(t):
            seq = z[b, :, f].reshape(c, h * w).T
            out[b, :, f] = _msa(mod.spatial_attn, seq, mod.num_heads, mod.scale).T.reshape(c, h, w)
    return out


def _temporal(mod, z):
    n, c, t, h, w = z.shape
    out = torch.zeros_like(z)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                out[b, :, :, i, j] = _msa(mod.temporal_attn, z[b, :, :, i, j].T, mod.num_heads, mod.scale).T
    return out


def test_factorised_self_attention_matches_the_paper():
    """Model 3: y_s = z + MSA_s(z), y_t = y_s + MSA_t(y_s); the module returns y_t - z."""
    torch.manual_seed(0)
    for kw, shape in [({}, (2, 8, 3, 2, 3)), ({"qkv_bias": False}, (1, 8, 4, 3, 2))]:
        mod = cvattn.create("vivit", channels=8, num_heads=2, **kw).double().eval()
        z = torch.randn(shape, dtype=torch.float64)
        with torch.no_grad():
            y_s = z + _spatial(mod, z)
            y_t = y_s + _temporal(mod, y_s)
            torch.testing.assert_close(mod(z), y_t - z)
            mod.order = "time_space"
            y_1 = z + _temporal(mod, z)
            torch.testing.assert_close(mod(z), y_1 + _spatial(mod, y_1) - z)


def test_factorised_dot_product_attention_matches_the_paper():
    """Model 4: heads 0..h/2-1 attend over time, the rest over space; concatenated, then projected."""
    torch.manual_seed(0)
    for heads, shape in [(2, (2, 8, 3, 2, 3)), (4, (1, 8, 2, 3, 3))]:
        mod = cvattn.create("vivit-dot-product", channels=8, num_heads=heads).double().eval()
        x = torch.randn(shape, dtype=torch.float64)
        n, c, t, h, w = shape
        half, d = heads // 2, c // heads
        tokens = x.permute(0, 2, 3, 4, 1)  # (N, T, H, W, C)
        qkv = tokens @ mod.qkv.weight.T + mod.qkv.bias
        q, k, v = qkv[..., :c], qkv[..., c : 2 * c], qkv[..., 2 * c :]
        cut = half * d  # channels of the temporal heads
        y = torch.zeros(n, t, h, w, c, dtype=torch.float64)
        for b in range(n):
            for i in range(h):
                for j in range(w):
                    s = (slice(None), i, j, slice(0, cut))
                    y[(b,) + s] = torch.cat(_heads(q[b][s], k[b][s], v[b][s], half, mod.scale), -1)
            for f in range(t):
                qs, ks, vs = (a[b, f, :, :, cut:].reshape(h * w, c - cut) for a in (q, k, v))
                y[b, f, :, :, cut:] = torch.cat(_heads(qs, ks, vs, half, mod.scale), -1).reshape(
                    h, w, c - cut
                )
        ref = (y @ mod.proj.weight.T + mod.proj.bias).permute(0, 4, 1, 2, 3)
        with torch.no_grad():
            torch.testing.assert_close(mod(x), ref)


def test_dot_product_heads_see_their_axis_only():
    """A token sees a change of another only when it shares its position (temporal heads) or its frame (spatial)."""
    mod = cvattn.create("vivit-dot-product", channels=8, num_heads=2).double().eval()
    x = torch.randn(1, 8, 3, 3, 3, dtype=torch.float64)
    y = x.clone()
    y[:, :, 0, 0, 0] += 1.0
    with torch.no_grad():
        a, b = mod(x), mod(y)
    assert not torch.allclose(a[:, :, 2, 0, 0], b[:, :, 2, 0, 0])  # same position, other frame
    assert not torch.allclose(a[:, :, 0, 2, 2], b[:, :, 0, 2, 2])  # same frame, other position
    torch.testing.assert_close(a[:, :, 2, 2, 2], b[:, :, 2, 2, 2])  # neither
