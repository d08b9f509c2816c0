import torch

import cvattn


def _count(c, qkv_bias=True):
    # qkv (3C x C [+ 3C]) + proj (C x C + C)
    return 3 * c * c + (3 * c if qkv_bias else 0) + c * c + c


def test_parameter_count_closed_form():
    for c, h, bias in [(64, 4, True), (96, 12, False), (8, 1, True)]:
        mod = cvattn.create("xvit", channels=c, num_heads=h, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, bias)


def _reference(mod, x, shift_div):
    """Per frame and head, explicit softmax; key/value channel j of frame t read from frame t+1 (j < C/div),
    t-1 (C/div <= j < 2C/div) or t, and zero outside the clip."""
    n, c, t, hh, ww = x.shape
    heads, d = mod.num_heads, c // mod.num_heads
    fold = c // shift_div
    source = [1 if j < fold else -1 if j < 2 * fold else 0 for j in range(c)]  # frame offset per channel
    wq, bq = mod.qkv.weight, mod.qkv.bias
    out = torch.zeros_like(x)
    for b in range(n):
        tok = [
            x[b, :, f].reshape(c, -1).T @ wq.T + (bq if bq is not None else 0) for f in range(t)
        ]  # (P, 3C)
        for f in range(t):
            q = tok[f][:, :c]
            k = torch.zeros_like(q)
            v = torch.zeros_like(q)
            for j, off in enumerate(source):
                g = f + off
                if 0 <= g < t:
                    k[:, j] = tok[g][:, c + j]
                    v[:, j] = tok[g][:, 2 * c + j]
            o = []
            for hd in range(heads):
                sl = slice(hd * d, (hd + 1) * d)
                logits = q[:, sl] @ k[:, sl].T * mod.scale
                e = torch.exp(logits - logits.max(-1, keepdim=True).values)
                o.append(e / e.sum(-1, keepdim=True) @ v[:, sl])
            y = torch.cat(o, -1) @ mod.proj.weight.T + mod.proj.bias
            out[b, :, f] = y.T.reshape(c, hh, ww)
    return out


def test_matches_reference():
    torch.manual_seed(0)
    for kw, div, shape in [
        ({}, 8, (2, 16, 3, 2, 3)),
        ({"shift_div": 4, "qkv_bias": False, "qk_scale": 0.4}, 4, (1, 8, 4, 3, 2)),
        ({"shift_div": 3}, 3, (1, 12, 2, 2, 2)),  # C/div not a multiple of the head size
    ]:
        c = shape[1]
        mod = cvattn.create("xvit", channels=c, num_heads=2, **kw).double().eval()
        x = torch.randn(shape, dtype=torch.float64)
        with torch.no_grad():
            torch.testing.assert_close(mod(x), _reference(mod, x, div))


def test_temporal_window_is_local():
    """Frame t sees frames t-1, t, t+1 only; with no channel shifted the frames are independent."""
    x = torch.randn(1, 16, 5, 3, 3, dtype=torch.float64)
    y = x.clone()
    y[:, :, 2] += 1.0
    with torch.no_grad():
        mod = cvattn.create("xvit", channels=16, num_heads=2).double().eval()
        a, b = mod(x), mod(y)
        changed = [not torch.allclose(a[:, :, f], b[:, :, f]) for f in range(5)]
        assert changed == [False, True, True, True, False]
        mod = cvattn.create("xvit", channels=16, num_heads=2, shift_div=32).double().eval()  # fold = 0
        a, b = mod(x), mod(y)
        changed = [not torch.allclose(a[:, :, f], b[:, :, f]) for f in range(5)]
        assert changed == [False, False, True, False, False]
