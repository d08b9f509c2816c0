import torch

import cvattn


def _count(c, h, k, bias):
    n = c * c + (c if bias else 0)  # value projection
    n += c * k**4 * h + k**4 * h  # weight predictor (with bias)
    n += c * c + c  # output projection
    return n


def test_parameter_count_closed_form():
    for c, h, k, s, bias in [(64, 2, 3, 2, False), (48, 3, 5, 1, True)]:
        m = cvattn.create(
            "volo", channels=c, num_heads=h, kernel_size=k, padding=k // 2, stride=s, qkv_bias=bias
        )
        assert sum(p.numel() for p in m.parameters()) == _count(c, h, k, bias)


def _reference(m, x):
    """Outlook attention from the paper's equations, one window at a time."""
    n, c, hh, ww = x.shape
    h, k, p, s = m.num_heads, m.kernel_size, m.padding, m.stride
    d = c // h
    v = torch.einsum("oc,nchw->nohw", m.v.weight, x)
    if m.v.bias is not None:
        v = v + m.v.bias[None, :, None, None]
    out = torch.zeros_like(x)
    for i in range((hh + s - 1) // s):
        for j in range((ww + s - 1) // s):
            cell = x[:, :, i * s : min(i * s + s, hh), j * s : min(j * s + s, ww)]
            token = cell.mean((2, 3))  # average pooling, ceil mode
            logits = (token @ m.attn.weight.T + m.attn.bias).reshape(n, h, k * k, k * k)
            a = torch.softmax(logits * m.scale, -1)  # (n, h, K^2 out, K^2 in)
            rows = [i * s - p + t // k for t in range(k * k)]
            cols = [j * s - p + t % k for t in range(k * k)]
            vals = torch.stack(
                [
                    v[:, :, r, q] if 0 <= r < hh and 0 <= q < ww else torch.zeros(n, c, dtype=x.dtype)
                    for r, q in zip(rows, cols, strict=True)
                ],
                -1,
            ).reshape(n, h, d, k * k)  # window values, zero outside the map
            y = torch.einsum("nhab,nhdb->nhda", a, vals).reshape(n, c, k * k)
            for t, (r, q) in enumerate(zip(rows, cols, strict=True)):
                if 0 <= r < hh and 0 <= q < ww:
                    out[:, :, r, q] += y[:, :, t]
    out = torch.einsum("oc,nchw->nohw", m.proj.weight, out) + m.proj.bias[None, :, None, None]
    return out


def test_matches_reference_stride_1_and_2():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    for s, bias in [(1, False), (2, True)]:
        m = cvattn.create("volo", channels=8, num_heads=2, stride=s, qkv_bias=bias).double().eval()
        torch.testing.assert_close(m(x), _reference(m, x))


def test_output_is_local():
    # K=3, padding 1, stride 1: an output pixel sees values at most K-1 = 2 pixels away
    torch.manual_seed(0)
    m = cvattn.create("volo", channels=8, num_heads=2, stride=1).double().eval()
    x = torch.randn(1, 8, 9, 9, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 8, 8] += 5.0
    d = (m(x2) - m(x)).abs().amax(1)[0]
    assert d[:6, :].max() == 0 and d[:, :6].max() == 0
    assert d[6:, 6:].max() > 0
