import torch
import torch.nn.functional as F

import cvattn


def _count(c, k, groups=4, share=8, factor=2, reduction=4, min_attn=32):
    k2, cw, mid, a = k * k, c // share, c // factor, max(2 * c // reduction, min_attn)
    key = c * (c // groups) * k2 + 2 * c  # grouped kxk conv + BN
    embed = 2 * c * mid + 2 * mid + mid * k2 * cw + k2 * cw + 2 * k2 * cw  # 1x1, BN, 1x1 with bias, GN
    value = c * c + 2 * c  # 1x1 conv + BN
    bn = 2 * c
    se = c * a + a + 2 * a + a * 2 * c + 2 * c  # 1x1 with bias, BN, 1x1 with bias
    return key + embed + value + bn + se


def test_parameter_count_closed_form():
    for c, k in [(64, 3), (128, 5)]:
        m = cvattn.create("cotnet", channels=c, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == _count(c, k)


def _bn(t, bn):
    shape = (1, -1, 1, 1)
    return (t - bn.running_mean.view(shape)) / torch.sqrt(
        bn.running_var.view(shape) + bn.eps
    ) * bn.weight.view(shape) + bn.bias.view(shape)


def _reference(m, x):
    """The CoT equations in eval mode, the aggregation as an explicit sum over the k x k offsets."""
    n, c, h, w = x.shape
    k, cw = m.kernel_size, m.weight_channels
    conv_k, bn_k = m.key_embed[0], m.key_embed[1]
    k1 = torch.relu(_bn(F.conv2d(x, conv_k.weight, padding=k // 2, groups=conv_k.groups), bn_k))
    e0, e1, _, e3, gn = m.embed
    a = torch.relu(_bn(torch.einsum("oi,nihw->nohw", e0.weight[:, :, 0, 0], torch.cat([x, k1], 1)), e1))
    a = torch.einsum("oi,nihw->nohw", e3.weight[:, :, 0, 0], a) + e3.bias.view(1, -1, 1, 1)
    a = F.group_norm(a, gn.num_groups, gn.weight, gn.bias, gn.eps).view(n, cw, k * k, h, w)
    v = _bn(torch.einsum("oi,nihw->nohw", m.value_embed[0].weight[:, :, 0, 0], x), m.value_embed[1])
    vp = F.pad(v, (k // 2,) * 4)
    agg = torch.zeros_like(v)
    for ch in range(c):
        for i in range(k):
            for j in range(k):
                agg[:, ch] += a[:, ch % cw, i * k + j] * vp[:, ch, i : i + h, j : j + w]
    k2 = F.silu(_bn(agg, m.bn))
    s0, s1, _, s3 = m.se
    g = (k1 + k2).mean((2, 3))
    z = torch.relu(_bn((g @ s0.weight[:, :, 0, 0].T + s0.bias)[..., None, None], s1))[..., 0, 0]
    z = (z @ s3.weight[:, :, 0, 0].T + s3.bias).view(n, c, 2)
    e = torch.exp(z)
    att = e / e.sum(-1, keepdim=True)
    return att[..., 0, None, None] * k2 + att[..., 1, None, None] * k1


def test_matches_reference_on_non_square_input():
    torch.manual_seed(0)
    m = cvattn.create("cotnet", channels=16, min_attn_channels=8).double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.3)
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_output_is_a_convex_combination_of_the_two_contexts():
    torch.manual_seed(0)
    m = cvattn.create("cotnet", channels=16).eval()
    x = torch.randn(1, 16, 4, 6)
    with torch.no_grad():
        k1 = m.key_embed(x)
        y = m(x)
    # with the dynamic branch silenced (zero aggregation-BN scale and shift), SiLU(0) = 0 and y = a_2 K1
    with torch.no_grad():
        m.bn.weight.zero_()
        m.bn.bias.zero_()
        y0 = m(x)
    ratio = y0 / k1.clamp_min(1e-6)
    assert ((ratio > 0) & (ratio < 1))[k1 > 1e-3].all()
    assert not torch.allclose(y, y0)
