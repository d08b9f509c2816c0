import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, kernels, qkv_bias):
    g = c // 4
    return g * sum(kernels) + 4 * g + 3 * 2 * c + 3 * c * (2 if qkv_bias else 1)  # 1-D convs, 3 GN, q k v


def test_parameter_count_closed_form():
    for c, kernels, bias in ((64, (3, 5, 7, 9), False), (24, (1, 3, 5, 11), True)):
        m = cvattn.create("scsa", channels=c, group_kernel_sizes=kernels, qkv_bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(c, kernels, bias)


def _softmax(z, dim):
    e = torch.exp(z - z.amax(dim, keepdim=True))
    return e / e.sum(dim, keepdim=True)


def _sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def _group_norm(z, groups, norm):
    n, c = z.shape[:2]
    zg = z.reshape(n, groups, -1)
    zg = (zg - zg.mean(-1, keepdim=True)) / torch.sqrt(zg.var(-1, unbiased=False, keepdim=True) + norm.eps)
    shape = (1, c) + (1,) * (z.dim() - 2)
    return zg.reshape(z.shape) * norm.weight.reshape(shape) + norm.bias.reshape(shape)


def _conv1d(p, conv):
    n, c, length = p.shape
    k = conv.weight.shape[-1]
    pp = F.pad(p, (k // 2, k // 2))
    out = conv.bias[None, :, None].expand(n, c, length).clone()
    for i in range(k):
        out = out + conv.weight[None, :, 0, i, None] * pp[..., i : i + length]
    return out


def _reference(m, x, heads, w):
    n, c, hh, ww = x.shape
    g = c // 4
    convs = (m.local_dwc, m.global_dwc_s, m.global_dwc_m, m.global_dwc_l)

    def gate(p, norm):
        z = torch.cat([_conv1d(p[:, i * g : (i + 1) * g], conv) for i, conv in enumerate(convs)], 1)
        return _sigmoid(_group_norm(z, 4, norm))

    x = x * gate(x.mean(3), m.norm_h)[..., None] * gate(x.mean(2), m.norm_w)[:, :, None]
    hp, wp = hh // w, ww // w  # floor: the remainder rows/columns are dropped by the pooling
    y = x[:, :, : hp * w, : wp * w].reshape(n, c, hp, w, wp, w).mean((3, 5))
    y = _group_norm(y, 1, m.norm).flatten(2)  # (n, c, hw)
    q, k, v = (y * conv.weight[:, 0, 0, 0][None, :, None] for conv in (m.q, m.k, m.v))
    d = c // heads
    q, k, v = (t.reshape(n, heads, d, -1) for t in (q, k, v))
    attn = _softmax(torch.einsum("nhip,nhjp->nhij", q, k) / d**0.5, -1)  # channel-to-channel
    out = torch.einsum("nhij,nhjp->nhip", attn, v).reshape(n, c, -1).mean(-1)
    return _sigmoid(out)[:, :, None, None] * x


@pytest.mark.parametrize("heads, w", [(1, 7), (2, 3)])
def test_matches_reference_with_floor_pooling(heads, w):
    torch.manual_seed(0)
    m = cvattn.create("scsa", channels=16, num_heads=heads, window_size=w).double().eval()
    with torch.no_grad():  # random affine norms so that their parameters matter
        for norm in (m.norm_h, m.norm_w, m.norm):
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_(0, 0.2)
    x = torch.randn(2, 16, 15, 10, dtype=torch.float64)  # 15x10 leaves a remainder for both windows
    torch.testing.assert_close(m(x), _reference(m, x, heads, w))


def test_too_small_input_raises():
    m = cvattn.create("scsa", channels=16)
    with pytest.raises(ValueError, match="window_size"):
        m(torch.randn(1, 16, 6, 9))


def test_bad_arguments_raise():
    for kwargs in (
        {"channels": 18},
        {"channels": 16, "num_heads": 3},
        {"channels": 16, "down_sample_mode": "recombination"},
    ):
        with pytest.raises(ValueError):
            cvattn.create("scsa", **kwargs)
