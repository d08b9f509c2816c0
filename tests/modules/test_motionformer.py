import torch

import cvattn


def _count(c, qkv_bias=True):
    # qkv (3C x C), proj_q (C x C), proj_kv (2C x C), each + bias if qkv_bias; proj (C x C + C)
    return 6 * c * c + (6 * c if qkv_bias else 0) + c * c + c


def test_parameter_count_closed_form():
    for c, h, bias in [(64, 4, True), (96, 12, False), (8, 1, True)]:
        mod = cvattn.create("motionformer", channels=c, num_heads=h, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, bias)


def _lin(layer, x):
    return x @ layer.weight.T + (layer.bias if layer.bias is not None else 0)


def _softmax(z):
    e = torch.exp(z - z.max())
    return e / e.sum()


def _reference(mod, x):
    """The paper's equations, token by token: per-frame spatial softmax, then attention along the trajectory."""
    n, c, t, hh, ww = x.shape
    heads, d, scale = mod.num_heads, c // mod.num_heads, mod.scale
    out = torch.zeros(n, c, t, hh, ww, dtype=x.dtype)
    for b in range(n):
        frames = [x[b, :, f].reshape(c, hh * ww).T for f in range(t)]  # T x (P, C)
        qkv = [_lin(mod.qkv, fr) for fr in frames]
        for f in range(t):
            for i in range(hh * ww):
                z = []
                for hd in range(heads):
                    sl = slice(hd * d, (hd + 1) * d)
                    q = qkv[f][i, :c][sl]
                    # trajectory: y[t'] = softmax over frame t' of q . k, applied to v of frame t'
                    y = torch.stack(
                        [
                            _softmax(qkv[g][:, c : 2 * c][:, sl] @ q * scale) @ qkv[g][:, 2 * c :][:, sl]
                            for g in range(t)
                        ]
                    )  # (T, d)
                    z.append(y)
                y_all = torch.cat(z, -1)  # (T', C): heads concatenated
                q2 = _lin(mod.proj_q, y_all[f])
                kv2 = _lin(mod.proj_kv, y_all)
                k2 = kv2[:, :c]
                v2 = y_all if mod.use_original_code else kv2[:, c:]
                o = []
                for hd in range(heads):
                    sl = slice(hd * d, (hd + 1) * d)
                    o.append(_softmax(k2[:, sl] @ q2[sl] * scale) @ v2[:, sl])
                out[b, :, f, i // ww, i % ww] = _lin(mod.proj, torch.cat(o))
    return out


def test_matches_reference():
    torch.manual_seed(0)
    for kw, shape in [
        ({}, (2, 8, 3, 2, 3)),
        ({"use_original_code": True}, (1, 8, 2, 3, 3)),
        ({"qkv_bias": False}, (1, 8, 4, 2, 2)),
    ]:
        mod = cvattn.create("motionformer", channels=8, num_heads=2, **kw).double().eval()
        x = torch.randn(shape, dtype=torch.float64)
        with torch.no_grad():
            torch.testing.assert_close(mod(x), _reference(mod, x))


def test_spatial_softmax_is_per_frame():
    """With a constant query (zero query weights) and values blind to input channel 0, adding a constant to
    channel 0 of frame 1 moves every key of frame 1 by the same vector: a softmax per frame ignores that (a
    softmax over all frames' keys would not)."""
    mod = cvattn.create("motionformer", channels=8, num_heads=2).double().eval()
    x = torch.randn(1, 8, 3, 2, 2, dtype=torch.float64)
    y = x.clone()
    y[:, 0, 1] += 3.0
    with torch.no_grad():
        mod.qkv.weight[:8].zero_()  # q = b_q for every token
        mod.qkv.weight[16:, 0] = 0.0  # v ignores channel 0
        torch.testing.assert_close(mod(y), mod(x))
        mod.qkv.weight[:8].normal_()  # a query that depends on the token breaks the invariance
        assert not torch.allclose(mod(y), mod(x))
