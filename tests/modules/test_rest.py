import torch
import torch.nn.functional as F

import cvattn


def _count(c, h, s):
    n = 4 * c * c + 4 * c  # q, kv (with bias) and proj
    if s > 1:
        n += c * (s + 1) ** 2 + c + 2 * c  # depthwise reduction conv + LayerNorm
    if h > 1:
        n += h * h + h  # head-mixing 1x1 conv
    return n


def test_parameter_count_closed_form():
    for c, h, s in [(64, 2, 4), (128, 1, 8), (96, 8, 1)]:
        m = cvattn.create("rest", channels=c, num_heads=h, sr_ratio=s)
        assert sum(p.numel() for p in m.parameters()) == _count(c, h, s)


def _reference(m, x, transform):
    n, c, hh, ww = x.shape
    h = m.num_heads
    t = x.flatten(2).transpose(1, 2)
    q = (t @ m.q.weight.T + m.q.bias).reshape(n, -1, h, c // h).transpose(1, 2)
    red = F.conv2d(x, m.sr.weight, m.sr.bias, stride=m.sr_ratio, padding=m.sr_ratio // 2, groups=c)
    red = red.flatten(2).transpose(1, 2)
    red = F.layer_norm(red, (c,), m.sr_norm.weight, m.sr_norm.bias, m.sr_norm.eps)
    kv = red @ m.kv.weight.T + m.kv.bias
    k = kv[..., :c].reshape(n, -1, h, c // h).transpose(1, 2)
    v = kv[..., c:].reshape(n, -1, h, c // h).transpose(1, 2)
    logits = torch.einsum("nhqd,nhkd->nhqk", q, k) / (c // h) ** 0.5
    if transform:
        logits = torch.einsum("gh,nhqk->ngqk", m.transform_conv.weight[:, :, 0, 0], logits)
        logits = logits + m.transform_conv.bias[None, :, None, None]
    attn = torch.softmax(logits, -1)
    if transform:
        mu = attn.mean((2, 3), keepdim=True)
        var = attn.var((2, 3), unbiased=False, keepdim=True)
        attn = (attn - mu) / torch.sqrt(var + 1e-5)
    else:
        torch.testing.assert_close(attn.sum(-1), torch.ones_like(attn.sum(-1)))
    y = torch.einsum("nhqk,nhkd->nqhd", attn, v).reshape(n, -1, c)
    y = y @ m.proj.weight.T + m.proj.bias
    return y.transpose(1, 2).reshape(x.shape)


def test_matches_reference_with_and_without_transform():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 9, 7, dtype=torch.float64)
    for transform in (True, False):
        m = (
            cvattn.create("rest", channels=16, num_heads=4, sr_ratio=2, apply_transform=transform)
            .double()
            .eval()
        )
        torch.testing.assert_close(m(x), _reference(m, x, transform))
