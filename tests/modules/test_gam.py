import torch
import torch.nn.functional as F

import cvattn


def _count(c, r, k):
    m = c // r
    mlp = (c * m + m) + (m * c + c)
    spatial = (k * k * c * m + m) + 2 * m + (k * k * m * c + c) + 2 * c
    return mlp + spatial


def test_parameter_count_closed_form():
    for c, r, k in [(64, 4, 7), (48, 8, 3)]:
        m = cvattn.create("gam", channels=c, rate=r, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == _count(c, r, k)


def _bn(x, bn):
    shape = (1, -1, 1, 1)
    y = (x - bn.running_mean.view(shape)) / torch.sqrt(bn.running_var.view(shape) + bn.eps)
    return y * bn.weight.view(shape) + bn.bias.view(shape)


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("gam", channels=16, rate=4, kernel_size=5).double().eval()
    with torch.no_grad():
        for bn in (m.spatial_attention[1], m.spatial_attention[4]):
            bn.running_mean.normal_(0, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.2)
    x = torch.randn(2, 16, 6, 9, dtype=torch.float64)
    l1, l2 = m.channel_attention[0], m.channel_attention[2]
    hidden = torch.einsum("nchw,mc->nmhw", x, l1.weight) + l1.bias[None, :, None, None]
    mc = torch.einsum("nmhw,cm->nchw", hidden.clamp_min(0), l2.weight) + l2.bias[None, :, None, None]
    f2 = x / (1 + torch.exp(-mc))
    c1, c2 = m.spatial_attention[0], m.spatial_attention[3]
    s = _bn(F.conv2d(f2, c1.weight, c1.bias, padding=2), m.spatial_attention[1]).clamp_min(0)
    s = _bn(F.conv2d(s, c2.weight, c2.bias, padding=2), m.spatial_attention[4])
    want = f2 / (1 + torch.exp(-s))
    torch.testing.assert_close(m(x), want)


def test_channel_weights_depend_on_position():
    torch.manual_seed(1)
    m = cvattn.create("gam", channels=8, rate=2).eval()
    x = torch.randn(1, 8, 4, 4)
    with torch.no_grad():
        mc = m.channel_attention(x.permute(0, 2, 3, 1))  # per position, unlike SE/CBAM's pooled vector
    assert not torch.allclose(mc[0, 0, 0], mc[0, 3, 3])
