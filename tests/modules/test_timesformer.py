import torch

import cvattn


def _count(c, qkv_bias=True):
    # two attentions (qkv 3C x C [+ 3C], proj C x C + C) and temporal_fc (C x C + C)
    return 2 * (3 * c * c + (3 * c if qkv_bias else 0) + c * c + c) + c * c + c


def test_parameter_count_closed_form():
    for c, h, bias in [(64, 4, True), (96, 12, False), (8, 1, True)]:
        mod = cvattn.create("timesformer", channels=c, num_heads=h, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, bias)


def _mhsa(tokens, attn, heads, scale):
    """Loop over heads, explicit softmax: tokens (L, C) -> (L, C)."""
    c = tokens.shape[1]
    d = c // heads
    qkv = tokens @ attn.qkv.weight.T + (attn.qkv.bias if attn.qkv.bias is not None else 0)
    q, k, v = qkv[:, :c], qkv[:, c : 2 * c], qkv[:, 2 * c :]
    outs = []
    for hd in range(heads):
        sl = slice(hd * d, (hd + 1) * d)
        logits = q[:, sl] @ k[:, sl].T * scale
        e = torch.exp(logits - logits.max(-1, keepdim=True).values)
        outs.append(e / e.sum(-1, keepdim=True) @ v[:, sl])
    return torch.cat(outs, -1) @ attn.proj.weight.T + attn.proj.bias


def _reference(mod, x):
    n, c, t, h, w = x.shape
    heads, scale = mod.num_heads, mod.scale
    fc = mod.temporal_fc
    res_t = torch.zeros(n, c, t, h, w, dtype=x.dtype)
    for b in range(n):
        for i in range(h):
            for j in range(w):
                seq = x[b, :, :, i, j].T  # (T, C): one position across frames
                res_t[b, :, :, i, j] = (_mhsa(seq, mod.temporal_attn, heads, scale) @ fc.weight.T + fc.bias).T
    x_t = x + res_t
    res_s = torch.zeros_like(res_t)
    for b in range(n):
        for f in range(t):
            seq = x_t[b, :, f].reshape(c, h * w).T  # (HW, C): one frame, row-major
            res_s[b, :, f] = _mhsa(seq, mod.attn, heads, scale).T.reshape(c, h, w)
    return res_t + res_s


def test_matches_reference():
    torch.manual_seed(0)
    for kw, shape in [({}, (2, 8, 3, 2, 4)), ({"qkv_bias": False, "qk_scale": 0.4}, (1, 8, 5, 3, 3))]:
        mod = cvattn.create("timesformer", channels=8, num_heads=2, **kw).double().eval()
        x = torch.randn(shape, dtype=torch.float64)
        with torch.no_grad():
            torch.testing.assert_close(mod(x), _reference(mod, x))


def test_divided_receptive_field():
    """One block sees the same position in other frames and, through it, the whole frame; with zero temporal
    update the frames are independent (pure spatial attention)."""
    mod = cvattn.create("timesformer", channels=8, num_heads=2).double().eval()
    x = torch.randn(1, 8, 3, 4, 4, dtype=torch.float64)
    y = x.clone()
    y[:, :, 0, 0, 0] += 1.0
    with torch.no_grad():
        a, b = mod(x), mod(y)
        assert not torch.allclose(a[:, :, 2, 3, 3], b[:, :, 2, 3, 3])  # other frame, other position
        mod.temporal_fc.weight.zero_()
        mod.temporal_fc.bias.zero_()
        a, b = mod(x), mod(y)
        torch.testing.assert_close(a[:, :, 1:], b[:, :, 1:])
