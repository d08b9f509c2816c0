import pytest
import torch

import cvattn


def _count_ca(c, bias):
    return 4 * c * c + c + (3 * c if bias else 0) + c  # q, k, v, proj (with bias), class token


def _count_th(c, h, bias):
    return 4 * c * c + c + (3 * c if bias else 0) + 2 * (h * h + h)  # qkv, proj, two head mixers


def test_parameter_count_closed_form():
    for c, h, bias in [(64, 8, True), (48, 3, False)]:
        ca = cvattn.create("cait", channels=c, num_heads=h, qkv_bias=bias)
        th = cvattn.create("cait-talking-heads", channels=c, num_heads=h, qkv_bias=bias)
        assert sum(p.numel() for p in ca.parameters()) == _count_ca(c, bias)
        assert sum(p.numel() for p in th.parameters()) == _count_th(c, h, bias)


def _lin(layer, t):
    return t @ layer.weight.T + layer.bias


def _softmax(s):
    e = torch.exp(s - s.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def _reference_ca(m, x):
    n, c, hh, ww = x.shape
    h, d = m.num_heads, c // m.num_heads
    t = x.reshape(n, c, hh * ww).transpose(1, 2)
    z = torch.cat([m.cls_token.expand(n, 1, c), t], dim=1)  # (N, 1 + L, C)
    q = _lin(m.q, z[:, :1]).reshape(n, 1, h, d)
    k = _lin(m.k, z).reshape(n, -1, h, d)
    v = _lin(m.v, z).reshape(n, -1, h, d)
    attn = _softmax(torch.einsum("nqhd,nkhd->nhqk", q, k) / d**0.5)  # (N, h, 1, 1 + L)
    cls = _lin(m.proj, torch.einsum("nhqk,nkhd->nqhd", attn, v).reshape(n, 1, c))[:, 0]  # (N, C)
    return cls[:, :, None, None].expand(n, c, hh, ww)


def _reference_th(m, x):
    n, c, hh, ww = x.shape
    h, d = m.num_heads, c // m.num_heads
    t = x.reshape(n, c, hh * ww).transpose(1, 2)
    qkv = _lin(m.qkv, t)
    q, k, v = (qkv[..., i * c : (i + 1) * c].reshape(n, -1, h, d) for i in range(3))
    s = torch.einsum("nqhd,nkhd->nqkh", q, k) / d**0.5  # heads last, as the paper's mixing
    a = _lin(m.proj_w, _softmax(_lin(m.proj_l, s).permute(0, 3, 1, 2)).permute(0, 2, 3, 1))
    y = torch.einsum("nqkh,nkhd->nqhd", a, v).reshape(n, -1, c)
    return _lin(m.proj, y).transpose(1, 2).reshape(n, c, hh, ww)


def test_class_attention_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("cait", channels=16, num_heads=4).double().eval()
    with torch.no_grad():
        m.cls_token.normal_()
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference_ca(m, x))


def test_talking_heads_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("cait-talking-heads", channels=16, num_heads=4).double().eval()
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference_th(m, x))


def test_class_token_only_sees_a_set():
    """Only the class token is updated: the output is one vector, invariant to permuting the pixels."""
    torch.manual_seed(2)
    m = cvattn.create("cait", channels=16, num_heads=2).double().eval()
    x = torch.randn(1, 16, 4, 6, dtype=torch.float64)
    y = m(x)
    assert torch.equal(y, y[:, :, :1, :1].expand_as(y))
    xp = x.flatten(2)[..., torch.randperm(24)].reshape_as(x)
    torch.testing.assert_close(m(xp), y)


def test_identity_mixing_is_plain_attention():
    """With identity head mixers talking-heads attention is multi-head softmax attention."""
    torch.manual_seed(3)
    m = cvattn.create("cait-talking-heads", channels=16, num_heads=4).double().eval()
    with torch.no_grad():
        for mix in (m.proj_l, m.proj_w):
            mix.weight.copy_(torch.eye(4))
            mix.bias.zero_()
    x = torch.randn(1, 16, 3, 5, dtype=torch.float64)
    t = x.flatten(2).transpose(1, 2)
    q, k, v = _lin(m.qkv, t).reshape(1, -1, 3, 4, 4).permute(2, 0, 3, 1, 4)
    y = torch.nn.functional.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(1, -1, 16)
    torch.testing.assert_close(m(x), _lin(m.proj, y).transpose(1, 2).reshape_as(x))


def test_bad_heads_raise():
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("cait", channels=10, num_heads=4)
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("cait-talking-heads", channels=10, num_heads=3)
