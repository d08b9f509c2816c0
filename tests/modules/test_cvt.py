import math

import torch

import cvattn


def _count(c, b, k, method):
    n = 4 * c * c + c + 3 * c * b  # proj_q, proj_k, proj_v (+ biases), proj with bias
    if method == "dw_bn":
        n += 3 * (c * k * k + 2 * c)  # three depthwise k x k convs without bias, each with a BatchNorm
    return n


def test_parameter_count_closed_form():
    for c, h, k, b, method in [
        (64, 1, 3, True, "dw_bn"),
        (192, 3, 5, False, "dw_bn"),
        (96, 2, 3, True, "avg"),
    ]:
        m = cvattn.create(
            "cvt", channels=c, num_heads=h, kernel_size=k, padding_kv=k // 2, qkv_bias=b, method=method
        )
        assert sum(p.numel() for p in m.parameters()) == _count(c, int(b), k, method)


def _depthwise(x, w, stride, pad):
    """Depthwise conv without bias by its definition: a sum over the k x k kernel offsets."""
    n, c, hh, ww = x.shape
    k = w.shape[-1]
    xp = torch.zeros(n, c, hh + 2 * pad, ww + 2 * pad, dtype=x.dtype)
    xp[:, :, pad : pad + hh, pad : pad + ww] = x
    ho, wo = (hh + 2 * pad - k) // stride + 1, (ww + 2 * pad - k) // stride + 1
    out = torch.zeros(n, c, ho, wo, dtype=x.dtype)
    for a in range(k):
        for b in range(k):
            patch = xp[:, :, a : a + stride * (ho - 1) + 1 : stride, b : b + stride * (wo - 1) + 1 : stride]
            out += w[None, :, 0, a, b, None, None] * patch
    return out


def _bn_eval(x, bn):
    shape = (1, -1, 1, 1)
    return (x - bn.running_mean.view(shape)) / torch.sqrt(
        bn.running_var.view(shape) + bn.eps
    ) * bn.weight.view(shape) + bn.bias.view(shape)


def _avg_pool_ceil(x, k, s, p):
    """Average pooling in ceil mode, padding counted, as PyTorch defines it."""
    n, c, hh, ww = x.shape

    def bounds(size):
        out = math.ceil((size + 2 * p - k) / s) + 1
        if (out - 1) * s >= size + p:
            out -= 1
        spans = []
        for i in range(out):
            start = i * s - p
            end = min(start + k, size + p)
            spans.append((max(start, 0), min(end, size), end - start))
        return spans

    rows, cols = bounds(hh), bounds(ww)
    out = torch.zeros(n, c, len(rows), len(cols), dtype=x.dtype)
    for i, (r0, r1, rn) in enumerate(rows):
        for j, (c0, c1, cn) in enumerate(cols):
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].sum((2, 3)) / (rn * cn)
    return out


def _reference(m, x, stride, pad, k):
    n, c, hh, ww = x.shape
    heads, d = m.num_heads, c // m.num_heads

    def tokens(t):
        return t.permute(0, 2, 3, 1).reshape(n, -1, c)

    if m.method == "dw_bn":
        q = _bn_eval(_depthwise(x, m.conv_proj_q.conv.weight, 1, k // 2), m.conv_proj_q.bn)
        kk = _bn_eval(_depthwise(x, m.conv_proj_k.conv.weight, stride, pad), m.conv_proj_k.bn)
        v = _bn_eval(_depthwise(x, m.conv_proj_v.conv.weight, stride, pad), m.conv_proj_v.bn)
    else:
        q, kk, v = x, _avg_pool_ceil(x, k, stride, pad), _avg_pool_ceil(x, k, stride, pad)
    q = tokens(q) @ m.proj_q.weight.T + m.proj_q.bias
    kk = tokens(kk) @ m.proj_k.weight.T + m.proj_k.bias
    v = tokens(v) @ m.proj_v.weight.T + m.proj_v.bias
    out = torch.empty(n, hh * ww, c, dtype=x.dtype)
    for i in range(heads):
        sl = slice(i * d, (i + 1) * d)
        logits = torch.einsum("nqd,nkd->nqk", q[..., sl], kk[..., sl]) / math.sqrt(c)  # full width C
        attn = torch.exp(logits - logits.amax(-1, keepdim=True))
        out[..., sl] = torch.einsum("nqk,nkd->nqd", attn / attn.sum(-1, keepdim=True), v[..., sl])
    y = out @ m.proj.weight.T + m.proj.bias
    return y.reshape(n, hh, ww, c).permute(0, 3, 1, 2)


def test_matches_reference_dw_bn_and_avg_on_odd_sizes():
    torch.manual_seed(0)
    for method in ("dw_bn", "avg"):
        m = cvattn.create("cvt", channels=8, num_heads=2, stride_kv=2, qkv_bias=True, method=method).double()
        for name, p in m.named_parameters():
            torch.nn.init.normal_(p, mean=1.0 if name.endswith("bn.weight") else 0.0, std=0.3)
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
        m.eval()
        x = torch.randn(2, 8, 7, 10, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x, 2, 1, 3))


def test_keys_and_values_are_subsampled_queries_are_not():
    m = cvattn.create("cvt", channels=8, num_heads=2, stride_kv=2).eval()
    x = torch.randn(1, 8, 13, 17)
    assert m.conv_proj_q(x).shape[-2:] == (13, 17)
    assert m.conv_proj_k(x).shape[-2:] == m.conv_proj_v(x).shape[-2:] == (7, 9)
