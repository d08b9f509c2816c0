import torch
import torch.nn.functional as F

import cvattn


def _count(c, kh, kv, norm):
    pointwise = c * c + (2 * c if norm else c)  # 1x1 conv + BN affine, or 1x1 conv with bias
    strips = (c * kh + c) + (c * kv + c)  # depthwise 1 x kh and kv x 1, with bias
    return 2 * pointwise + strips


def test_parameter_count_closed_form():
    for c, kh, kv, norm in [(64, 11, 11, True), (32, 13, 7, False)]:
        kw = {} if norm else {"norm_layer": None, "act_layer": None}
        m = cvattn.create("pkinet-caa", channels=c, h_kernel_size=kh, v_kernel_size=kv, **kw)
        assert sum(p.numel() for p in m.parameters()) == _count(c, kh, kv, norm)


def _bn_silu(x, bn):
    shape = (1, -1, 1, 1)
    y = (x - bn.running_mean.view(shape)) / torch.sqrt(bn.running_var.view(shape) + bn.eps)
    y = y * bn.weight.view(shape) + bn.bias.view(shape)
    return y / (1 + torch.exp(-y))


def test_matches_reference():
    torch.manual_seed(0)
    c, kh, kv = 8, 7, 5
    m = cvattn.create("pkinet-caa", channels=c, h_kernel_size=kh, v_kernel_size=kv).double().eval()
    with torch.no_grad():
        for bn in (m.conv1.bn, m.conv2.bn):
            bn.running_mean.normal_(0, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.2)
    x = torch.randn(2, c, 6, 9, dtype=torch.float64)
    # 7x7 average pooling, zero padding 3, divisor always 49 (padding counted)
    p = torch.zeros(2, c, 6, 9, dtype=torch.float64)
    xp = F.pad(x, (3, 3, 3, 3))
    for i in range(7):
        for j in range(7):
            p += xp[:, :, i : i + 6, j : j + 9] / 49
    f = _bn_silu(torch.einsum("nchw,oc->nohw", p, m.conv1.conv.weight[:, :, 0, 0]), m.conv1.bn)
    # depthwise strips: 1 x kh along the width, then kv x 1 along the height
    wh, bh = m.h_conv.conv.weight[:, 0, 0, :], m.h_conv.conv.bias
    fp = F.pad(f, (kh // 2, kh // 2))
    g = sum(fp[..., t : t + 9] * wh[:, t, None, None] for t in range(kh)) + bh[:, None, None]
    wv, bv = m.v_conv.conv.weight[:, 0, :, 0], m.v_conv.conv.bias
    gp = F.pad(g, (0, 0, kv // 2, kv // 2))
    g = sum(gp[:, :, t : t + 6] * wv[:, t, None, None] for t in range(kv)) + bv[:, None, None]
    a = _bn_silu(torch.einsum("nchw,oc->nohw", g, m.conv2.conv.weight[:, :, 0, 0]), m.conv2.bn)
    want = x / (1 + torch.exp(-a))
    torch.testing.assert_close(m(x), want)


def test_strips_reach_along_rows_and_columns_only():
    torch.manual_seed(1)
    m = cvattn.create("pkinet-caa", channels=4, h_kernel_size=11, v_kernel_size=11).eval()
    x = torch.randn(1, 4, 31, 31)
    far_row, far_diag = x.clone(), x.clone()
    far_row[:, :, 15, 15 + 8] += 5.0  # same row, 8 columns away: within 3 (pool) + 5 (strip)
    far_diag[:, :, 15 + 9, 15 + 9] += 5.0  # beyond the 3 + 5 reach along both axes
    with torch.no_grad():
        base = m(x)[:, :, 15, 15]
        assert not torch.allclose(m(far_row)[:, :, 15, 15], base)
        torch.testing.assert_close(m(far_diag)[:, :, 15, 15], base)
