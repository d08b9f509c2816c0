import torch

import cvattn


def test_parameter_count_closed_form():
    for c, h, s, b in [(64, 2, 4, True), (160, 5, 2, False), (32, 1, 1, True)]:
        m = cvattn.create("segformer", channels=c, num_heads=h, sr_ratio=s, qkv_bias=b)
        # q, kv (+ biases), proj with bias; for s > 1 the s x s reduction conv with bias and a LayerNorm
        n = 4 * c * c + c + 3 * c * int(b) + (s * s * c * c + 3 * c if s > 1 else 0)
        assert sum(p.numel() for p in m.parameters()) == n


def _reference(m, x):
    """The paper's sequence reduction: reshape K to (N / R, C R) and map it back to C with a linear layer."""
    n, c, hh, ww = x.shape
    h, s, d = m.num_heads, m.sr_ratio, c // m.num_heads
    t = x.permute(0, 2, 3, 1).reshape(n, hh * ww, c)
    q = t @ m.q.weight.T + m.q.bias
    hr, wr = hh // s, ww // s
    # group each s x s patch (R = s^2 tokens) into one row of C * R values, ordered as the conv weight
    groups = x[:, :, : hr * s, : wr * s].reshape(n, c, hr, s, wr, s).permute(0, 2, 4, 1, 3, 5)
    groups = groups.reshape(n, hr * wr, c * s * s)
    red = groups @ m.sr.weight.reshape(c, c * s * s).T + m.sr.bias  # Linear(C R, C)
    mu, var = red.mean(-1, keepdim=True), red.var(-1, unbiased=False, keepdim=True)
    red = (red - mu) / torch.sqrt(var + m.norm.eps) * m.norm.weight + m.norm.bias
    kv = red @ m.kv.weight.T + m.kv.bias
    k, v = kv[..., :c], kv[..., c:]
    out = torch.empty(n, hh * ww, c, dtype=x.dtype)
    for i in range(h):
        sl = slice(i * d, (i + 1) * d)
        logits = torch.einsum("nqd,nkd->nqk", q[..., sl], k[..., sl]) / d**0.5
        attn = torch.exp(logits - logits.amax(-1, keepdim=True))
        out[..., sl] = torch.einsum("nqk,nkd->nqd", attn / attn.sum(-1, keepdim=True), v[..., sl])
    y = out @ m.proj.weight.T + m.proj.bias
    return y.reshape(n, hh, ww, c).permute(0, 3, 1, 2)


def test_matches_reference_on_a_size_that_does_not_divide():
    torch.manual_seed(0)
    m = cvattn.create("segformer", channels=10, num_heads=5, sr_ratio=2, qkv_bias=True).double().eval()
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randn(2, 10, 7, 9, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_columns_outside_the_reduction_only_act_as_queries():
    # Reshape(N / R, C R) needs whole s x s groups: with W = 7 and s = 2 the last column is in none, so it
    # contributes no key or value; changing it changes that column of the output only
    torch.manual_seed(1)
    m = cvattn.create("segformer", channels=8, num_heads=2, sr_ratio=2).double().eval()
    x = torch.randn(1, 8, 6, 7, dtype=torch.float64)
    x2 = x.clone()
    x2[..., 6] += torch.randn(1, 8, 6, dtype=torch.float64)
    y, y2 = m(x), m(x2)
    torch.testing.assert_close(y[..., :6], y2[..., :6])
    assert not torch.allclose(y[..., 6], y2[..., 6])
