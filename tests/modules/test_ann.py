import math

import pytest
import torch
import torch.nn.functional as F

import cvattn
from cvattn.attention.ann import pyramid_sample


def _n(m):
    return sum(p.numel() for p in m.parameters())


def _randomise_bn(module):
    """Non-trivial BatchNorm statistics and affine parameters, so an eval-mode reference must apply them."""
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm2d):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.5, 0.5)


def _conv1x1(x, conv):
    return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]


def _bn(x, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return (x - bn.running_mean[None, :, None, None]) * scale[None, :, None, None] + bn.bias[
        None, :, None, None
    ]


def _pyramid_by_hand(x, sizes=(1, 3, 6, 8)):
    """Adaptive average pooling written out: bin i of s covers rows floor(i*H/s) .. ceil((i+1)*H/s) - 1."""
    h, w = x.shape[-2:]
    anchors = []
    for s in sizes:
        for i in range(s):
            r0, r1 = (i * h) // s, math.ceil((i + 1) * h / s)
            for j in range(s):
                c0, c1 = (j * w) // s, math.ceil((j + 1) * w / s)
                anchors.append(x[:, :, r0:r1, c0:c1].mean((2, 3)))
    return torch.stack(anchors, dim=2)  # (N, C, S)


def _attention_by_hand(q, k, v, ck):
    logits = torch.einsum("ncp,ncs->nps", q.flatten(2), k) * ck**-0.5  # (N, HW, S)
    attn = torch.exp(logits - logits.amax(-1, keepdim=True))
    attn = attn / attn.sum(-1, keepdim=True)
    torch.testing.assert_close(attn.sum(-1), torch.ones_like(attn[..., 0]))  # rows sum to 1
    return torch.einsum("nps,ncs->ncp", attn, v).reshape(v.shape[0], v.shape[1], *q.shape[-2:])


def test_parameter_count_closed_form_apnb():
    for c, ck, cv in [(64, None, None), (48, 8, 20)]:
        m = cvattn.create("ann-apnb", channels=c, key_channels=ck, value_channels=cv)
        ck, cv = ck or c // 2, cv or c // 2
        # shared key/query conv+BN, value conv, W, fusion conv (2C -> C) + BN
        assert _n(m) == (c * ck + ck + 2 * ck) + (c * cv + cv) + (cv * c + c) + (2 * c * c + c + 2 * c)


def test_parameter_count_closed_form_afnb():
    for ch, cl, co, ck, cv in [(64, 32, None, None, None), (48, 24, 40, 8, 12)]:
        m = cvattn.create(
            "ann-afnb", channels=ch, low_channels=cl, out_channels=co, key_channels=ck, value_channels=cv
        )
        co, ck, cv = co or ch, ck or ch // 8, cv or ch // 8
        query, key, value = ch * ck + 3 * ck, cl * ck + 3 * ck, cl * cv + cv
        assert _n(m) == query + key + value + (cv * co + co) + ((co + ch) * co + co + 2 * co)


def test_pyramid_gives_110_anchors_at_any_size():
    x = torch.randn(2, 5, 13, 17, dtype=torch.float64)
    anchors = pyramid_sample(x)
    assert anchors.shape == (2, 5, 1 + 9 + 36 + 64)
    torch.testing.assert_close(anchors, _pyramid_by_hand(x))


def test_apnb_matches_reference():
    m = cvattn.create("ann-apnb", channels=12, key_channels=6, value_channels=5).double().eval()
    _randomise_bn(m)
    x = torch.randn(2, 12, 13, 17, dtype=torch.float64)
    emb = F.relu(_bn(_conv1x1(x, m.f_key.conv), m.f_key.bn))  # shared query/key embedding
    key = _pyramid_by_hand(emb)
    value = _pyramid_by_hand(_conv1x1(x, m.f_value))
    context = _conv1x1(_attention_by_hand(emb, key, value, 6), m.W)
    fuse = m.fuse[0]
    ref = F.relu(_bn(_conv1x1(torch.cat([context, x], 1), fuse.conv), fuse.bn))
    torch.testing.assert_close(m(x), ref)


def test_afnb_matches_reference_with_low_level_map_of_other_size():
    m = cvattn.create(
        "ann-afnb", channels=16, low_channels=10, out_channels=14, key_channels=6, value_channels=7
    ).double()
    m.eval()
    _randomise_bn(m)
    x_high = torch.randn(2, 16, 13, 17, dtype=torch.float64)
    x_low = torch.randn(2, 10, 9, 11, dtype=torch.float64)
    query = F.relu(_bn(_conv1x1(x_high, m.f_query.conv), m.f_query.bn))
    key = _pyramid_by_hand(F.relu(_bn(_conv1x1(x_low, m.f_key.conv), m.f_key.bn)))
    value = _pyramid_by_hand(_conv1x1(x_low, m.f_value))
    context = _conv1x1(_attention_by_hand(query, key, value, 6), m.W)
    fuse = m.fuse[0]
    ref = _bn(_conv1x1(torch.cat([context, x_high], 1), fuse.conv), fuse.bn)  # no activation after the fusion
    out = m(x_high, x_low)
    assert out.shape == (2, 14, 13, 17)
    torch.testing.assert_close(out, ref)


def test_zero_init_starts_with_zero_context():
    m = cvattn.create("ann-apnb", channels=8, zero_init=True).eval()
    x = torch.randn(2, 8, 9, 9)
    fuse = m.fuse[0]
    ref = F.relu(fuse.bn(fuse.conv(torch.cat([torch.zeros_like(x), x], 1))))
    torch.testing.assert_close(m(x), ref)


def test_afnb_checks_both_inputs():
    m = cvattn.create("ann-afnb", channels=16, low_channels=8)
    with pytest.raises(ValueError, match="x_low"):
        m(torch.randn(1, 16, 8, 8), torch.randn(1, 9, 8, 8))
