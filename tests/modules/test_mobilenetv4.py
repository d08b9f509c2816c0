import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, heads, kd, vd, kv_s, q_s, k):
    n = c * heads * kd + c * kd + c * vd + heads * vd * c  # query, key, value and output 1x1 convs
    if kv_s > 1:
        n += 2 * (c * k * k + 2 * c)  # depthwise reductions of keys and values + BatchNorms
    if q_s > 1:
        n += 2 * c  # BatchNorm after the query pooling
    return n


def test_parameter_count_closed_form():
    for c, heads, kd, vd, kv_s, q_s, k in [
        (64, 4, 16, 16, 2, 1, 3),
        (160, 4, 64, 64, 2, 2, 5),
        (96, 8, 64, 64, 1, 1, 3),
    ]:
        m = cvattn.create(
            "mobilenetv4-mqa",
            channels=c,
            num_heads=heads,
            key_dim=kd,
            value_dim=vd,
            kv_strides=kv_s,
            query_h_strides=q_s,
            query_w_strides=q_s,
            dw_kernel_size=k,
        )
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, kd, vd, kv_s, q_s, k)


def _tf_same(x, k, s):
    """Pad as TensorFlow's 'same' does: out = ceil(n / s), the odd pixel of padding at the end."""
    pads = []
    for n in (x.shape[3], x.shape[2]):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return pads


def _bn(x, bn):
    shape = (1, -1, 1, 1)
    return (x - bn.running_mean.view(shape)) / torch.sqrt(
        bn.running_var.view(shape) + bn.eps
    ) * bn.weight.view(shape) + bn.bias.view(shape)


def _bilinear_matrix(n_in, scale):
    m = torch.zeros(n_in * scale, n_in, dtype=torch.float64)
    for i in range(n_in * scale):
        src = max((i + 0.5) / scale - 0.5, 0.0)
        i0 = min(int(math.floor(src)), n_in - 1)
        i1, lam = min(i0 + 1, n_in - 1), src - math.floor(src)
        m[i, i0] += 1 - lam
        m[i, i1] += lam
    return m


def _reference(m, x):
    n, c, hh, ww = x.shape
    heads, kd, vd = m.num_heads, m.key_dim, m.value_dim
    sh, sw = m.q_strides
    xq = x
    if sh > 1 or sw > 1:  # sides divisible by the strides here: plain averages
        xq = _bn(x.reshape(n, c, hh // sh, sh, ww // sw, sw).mean((3, 5)), m.query_downsampling_norm)
    q = torch.einsum("nchw,oc->nhwo", xq, m.query_proj.weight[:, :, 0, 0]).reshape(n, -1, heads, kd)
    kv_in = [x, x]
    if m.kv_strides > 1:
        s, k = m.kv_strides, m.dw_kernel_size
        for i, (conv, bn) in enumerate([(m.key_dw_conv, m.key_dw_norm), (m.value_dw_conv, m.value_dw_norm)]):
            xp = F.pad(x, _tf_same(x, k, s))
            kv_in[i] = _bn(F.conv2d(xp, conv.weight, stride=s, groups=c), bn)
    key = torch.einsum("nchw,oc->nhwo", kv_in[0], m.key_proj.weight[:, :, 0, 0]).reshape(n, -1, kd)
    val = torch.einsum("nchw,oc->nhwo", kv_in[1], m.value_proj.weight[:, :, 0, 0]).reshape(n, -1, vd)
    logits = torch.einsum("nlhk,npk->nlhp", q, key) / math.sqrt(kd)
    attn = torch.exp(logits - logits.amax(-1, keepdim=True))
    attn = attn / attn.sum(-1, keepdim=True)
    o = (
        torch.einsum("nlhp,npv->nlhv", attn, val)
        .reshape(n, hh // sh, ww // sw, heads * vd)
        .permute(0, 3, 1, 2)
    )
    if sh > 1 or sw > 1:
        o = torch.einsum(
            "ih,nchw,jw->ncij", _bilinear_matrix(hh // sh, sh), o, _bilinear_matrix(ww // sw, sw)
        )
    return torch.einsum("nchw,oc->nohw", o, m.output_proj.weight[:, :, 0, 0])


def _randomised(**kw):
    torch.manual_seed(0)
    m = cvattn.create("mobilenetv4-mqa", **kw).double().eval()
    with torch.no_grad():
        for bn in [b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]:
            bn.running_mean.normal_(0, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.2)
    return m


@pytest.mark.parametrize(
    ("kw", "size"),
    [
        (dict(kv_strides=2), (7, 10)),  # odd height: TF 'same' pads the bottom row only
        (dict(kv_strides=3, dw_kernel_size=5), (8, 7)),
        (dict(kv_strides=1), (5, 6)),
        (dict(kv_strides=2, query_h_strides=2, query_w_strides=2), (6, 8)),
    ],
)
def test_matches_reference(kw, size):
    m = _randomised(channels=16, num_heads=3, key_dim=4, value_dim=6, **kw)
    x = torch.randn(2, 16, *size, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_heads_share_one_key_and_value():
    m = cvattn.create("mobilenetv4-mqa", channels=32, num_heads=4, key_dim=8, value_dim=8)
    assert m.key_proj.out_channels == 8 and m.value_proj.out_channels == 8
    assert m.query_proj.out_channels == 32
    with pytest.raises(ValueError):
        cvattn.create("mobilenetv4-mqa", channels=32, kv_strides=4, dw_kernel_size=3)
