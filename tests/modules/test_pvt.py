import torch

import cvattn


def _count(c, b, s):
    n = 4 * c * c + c + 3 * c * b  # q (C x C), kv (C x 2C), their biases when b = 1, proj (C x C + C)
    if s > 1:
        n += s * s * c * c + c + 2 * c  # s x s reduction conv with bias, LayerNorm
    return n


def test_parameter_count_closed_form():
    for c, h, s, b in [(128, 2, 4, True), (64, 1, 8, False), (40, 5, 1, True)]:
        m = cvattn.create("pvt", channels=c, num_heads=h, sr_ratio=s, qkv_bias=b)
        assert sum(p.numel() for p in m.parameters()) == _count(c, int(b), s)


def _reference(m, x):
    """SRA from the paper's equations, in float64: patch-merging reduction, LayerNorm, explicit softmax."""
    n, c, hh, ww = x.shape
    h, s, d = m.num_heads, m.sr_ratio, c // m.num_heads
    t = x.permute(0, 2, 3, 1).reshape(n, hh * ww, c)
    q = t @ m.q.weight.T + m.q.bias
    # each non-overlapping s x s patch (the incomplete last rows/columns dropped) becomes one token
    hr, wr = hh // s, ww // s
    patches = x[:, :, : hr * s, : wr * s].reshape(n, c, hr, s, wr, s)
    red = torch.einsum("ncaibj,ocij->nabo", patches, m.sr.weight) + m.sr.bias
    red = red.reshape(n, hr * wr, c)
    mu, var = red.mean(-1, keepdim=True), red.var(-1, unbiased=False, keepdim=True)
    red = (red - mu) / torch.sqrt(var + m.norm.eps) * m.norm.weight + m.norm.bias
    kv = red @ m.kv.weight.T + m.kv.bias
    k, v = kv[..., :c], kv[..., c:]
    out = torch.zeros(n, hh * ww, c, dtype=x.dtype)
    for i in range(h):
        sl = slice(i * d, (i + 1) * d)
        logits = torch.einsum("nqd,nkd->nqk", q[..., sl], k[..., sl]) * d**-0.5
        attn = torch.exp(logits - logits.amax(-1, keepdim=True))
        attn = attn / attn.sum(-1, keepdim=True)
        out[..., sl] = torch.einsum("nqk,nkd->nqd", attn, v[..., sl])
    y = out @ m.proj.weight.T + m.proj.bias
    return y.reshape(n, hh, ww, c).permute(0, 3, 1, 2)


def test_matches_reference_on_a_size_that_does_not_divide():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 9, 11, dtype=torch.float64)
    m = cvattn.create("pvt", channels=16, num_heads=4, sr_ratio=4, qkv_bias=True).double().eval()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.3)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_dropped_rows_only_act_as_queries():
    # with H = 9, s = 4 the last row falls outside every reduction patch: changing it changes that row only
    torch.manual_seed(1)
    m = cvattn.create("pvt", channels=16, num_heads=2, sr_ratio=4).double().eval()
    x = torch.randn(1, 16, 9, 8, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 8] += torch.randn(1, 16, 8, dtype=torch.float64)
    y, y2 = m(x), m(x2)
    torch.testing.assert_close(y[:, :, :8], y2[:, :, :8])
    assert not torch.allclose(y[:, :, 8], y2[:, :, 8])
