import math

import torch

import cvattn


def _count(c, b):
    # q, kv (+ biases when b = 1), proj with bias, 1x1 conv with bias, LayerNorm
    return 4 * c * c + c + 3 * c * b + c * c + c + 2 * c


def test_parameter_count_closed_form():
    for c, h, b in [(64, 1, True), (320, 5, False)]:
        m = cvattn.create("pvtv2", channels=c, num_heads=h, qkv_bias=b)
        assert sum(p.numel() for p in m.parameters()) == _count(c, int(b))


def _adaptive_mean(x, p):
    """Adaptive average pooling by its definition: cell i spans [floor(i H / P), ceil((i + 1) H / P))."""
    n, c, hh, ww = x.shape
    out = torch.zeros(n, c, p, p, dtype=x.dtype)
    for i in range(p):
        r0, r1 = math.floor(i * hh / p), math.ceil((i + 1) * hh / p)
        for j in range(p):
            c0, c1 = math.floor(j * ww / p), math.ceil((j + 1) * ww / p)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean((2, 3))
    return out


def _reference(m, x):
    n, c, hh, ww = x.shape
    h, d, p = m.num_heads, c // m.num_heads, m.pool_size
    t = x.permute(0, 2, 3, 1).reshape(n, hh * ww, c)
    q = t @ m.q.weight.T + m.q.bias
    r = _adaptive_mean(x, p).permute(0, 2, 3, 1).reshape(n, p * p, c)
    r = r @ m.sr.weight[:, :, 0, 0].T + m.sr.bias
    mu, var = r.mean(-1, keepdim=True), r.var(-1, unbiased=False, keepdim=True)
    r = (r - mu) / torch.sqrt(var + m.norm.eps) * m.norm.weight + m.norm.bias
    r = 0.5 * r * (1 + torch.erf(r / math.sqrt(2)))  # exact GELU
    kv = r @ m.kv.weight.T + m.kv.bias
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


def test_matches_reference_on_sizes_that_do_not_divide_the_grid():
    torch.manual_seed(0)
    m = cvattn.create("pvtv2", channels=16, num_heads=2, qkv_bias=True).double().eval()
    for prm in m.parameters():
        torch.nn.init.normal_(prm, std=0.3)
    for shape in [(2, 16, 10, 13), (1, 16, 5, 9)]:  # overlapping bins, and a map smaller than 7 x 7
        x = torch.randn(shape, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_keys_do_not_see_the_order_inside_a_pooling_cell():
    # on a 14 x 14 map every key/value cell is 2 x 2: swapping two pixels of one cell leaves the keys and
    # values unchanged, so the output pixels are swapped and nothing else moves
    torch.manual_seed(2)
    m = cvattn.create("pvtv2", channels=16, num_heads=2).double().eval()
    x = torch.randn(1, 16, 14, 14, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 4, 6], x2[:, :, 5, 7] = x[:, :, 5, 7], x[:, :, 4, 6]
    y, y2 = m(x), m(x2)
    expected = y.clone()
    expected[:, :, 4, 6], expected[:, :, 5, 7] = y[:, :, 5, 7], y[:, :, 4, 6]
    torch.testing.assert_close(y2, expected)
    assert m.pool(x).shape[-2:] == (7, 7)


def test_sra_parameter_count_closed_form():
    for c, h, s, b in [(64, 1, 8, True), (320, 5, 2, False)]:
        m = cvattn.create("pvtv2-sra", channels=c, num_heads=h, sr_ratio=s, qkv_bias=b)
        n = 4 * c * c + c + 3 * c * int(b) + s * s * c * c + 3 * c  # q, kv, proj; s x s conv, LayerNorm
        assert sum(p.numel() for p in m.parameters()) == n


def test_sra_is_pvt_v1_spatial_reduction_attention():
    # the official linear=False branch is PVT v1's SRA line for line: same weights, same output (pvt's own
    # test checks that one against the paper's equations)
    torch.manual_seed(3)
    v2 = cvattn.create("pvtv2-sra", channels=16, num_heads=2, sr_ratio=3, qkv_bias=True).double().eval()
    v1 = cvattn.create("pvt", channels=16, num_heads=2, sr_ratio=3, qkv_bias=True).double().eval()
    for p in v2.parameters():
        torch.nn.init.normal_(p, std=0.3)
    v1.load_state_dict(v2.state_dict())
    x = torch.randn(2, 16, 8, 10, dtype=torch.float64)
    torch.testing.assert_close(v2(x), v1(x), rtol=0, atol=0)
