import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, reduction, unary, use_out, out_bn):
    p = c // reduction
    n = 2 * (c * p + p)  # query and key 1x1 convs (with bias)
    n += (c * p + p + p * c) if use_out else c * c  # value (+ output conv), both bias-free where official is
    n += 2 * c if out_bn else 0
    n += c + 1 if unary else 0  # W_m: 1x1 conv to one channel
    return n + 1  # gamma


@pytest.mark.parametrize(
    "c, reduction, unary, use_out, out_bn", [(64, 2, True, False, False), (48, 4, False, True, True)]
)
def test_parameter_count_closed_form(c, reduction, unary, use_out, out_bn):
    m = cvattn.create("dnl", channels=c, reduction=reduction, unary=unary, use_out=use_out, out_bn=out_bn)
    assert sum(p.numel() for p in m.parameters()) == _count(c, reduction, unary, use_out, out_bn)


def _conv(conv, x):
    y = torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x)
    return y if conv.bias is None else y + conv.bias[:, None, None]


def _softmax(t, dim):
    e = torch.exp(t - t.amax(dim, keepdim=True))
    return e / e.sum(dim, keepdim=True)


def _reference(m, x, tau, downsample):
    n, c, h, w = x.shape
    xkv = F.max_pool2d(x, 2) if downsample else x
    q = _conv(m.conv_query, x).flatten(2)  # (N, C', L)
    k = _conv(m.conv_key, xkv).flatten(2)  # (N, C', L')
    v = _conv(m.conv_value, xkv).flatten(2)  # (N, C, L')
    q = q - q.mean(2, keepdim=True)
    k = k - k.mean(2, keepdim=True)
    pair = _softmax(torch.einsum("nci,ncj->nij", q, k) / (math.sqrt(q.shape[1]) * tau), 2)
    unary = _softmax(_conv(m.conv_mask, xkv).flatten(1), 1)  # (N, L')
    y = m.gamma * torch.einsum("nij,ncj->nci", pair, v) + torch.einsum("nj,ncj->nc", unary, v)[..., None]
    return x + y.reshape(n, -1, h, w)


@pytest.mark.parametrize("downsample", [False, True])
def test_matches_reference(downsample):
    torch.manual_seed(0)
    m = cvattn.create("dnl", channels=16, temperature=0.5, downsample=downsample).double().eval()
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)  # odd size: the 2x2 pooling drops the last row/column
    torch.testing.assert_close(m(x), _reference(m, x, 0.5, downsample))


def test_whitening_cancels_query_and_key_biases():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 5, 6)
    m = cvattn.create("dnl", channels=16).eval()
    y = m(x)
    with torch.no_grad():
        m.conv_query.bias.add_(3.0)
        m.conv_key.bias.sub_(2.0)
    torch.testing.assert_close(m(x), y)
    plain = cvattn.create("dnl", channels=16, whiten=False).eval()
    plain.load_state_dict(m.state_dict())
    assert not torch.allclose(plain(x), y)


def test_unary_term_is_constant_over_positions():
    torch.manual_seed(0)
    x = torch.randn(1, 16, 4, 5)
    m = cvattn.create("dnl", channels=16, zero_init=True).eval()  # gamma = 0: only the unary term remains
    delta = m(x) - x
    torch.testing.assert_close(delta, delta[..., :1, :1].expand_as(delta))


def test_bad_arguments_raise():
    for kwargs in ({"reduction": 0}, {"reduction": 32}, {"temperature": 0.0}):
        with pytest.raises(ValueError):
            cvattn.create("dnl", channels=16, **kwargs)
