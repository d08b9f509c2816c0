import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, r in [(64, 4), (256, 8)]:
        m = cvattn.create("hattmatting-channel", channels=c, reduction=r)
        hid = c // r
        assert sum(p.numel() for p in m.parameters()) == c * hid + hid + hid * c + c
    for c, g, k in [(32, 64, 9), (16, 128, 7)]:
        m = cvattn.create("hattmatting-spatial", channels=c, guide_channels=g, kernel_size=k)
        h = g // 2
        branch = g * h * k + 2 * h + h * k + 2
        assert sum(p.numel() for p in m.parameters()) == 2 * branch


def test_channel_gate_matches_reference():
    m = cvattn.create("hattmatting-channel", channels=16).double().eval()
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    z = x.sum((2, 3)) / 35
    s = torch.sigmoid(
        F.relu(z @ m.fc1.weight[:, :, 0, 0].T + m.fc1.bias) @ m.fc2.weight[:, :, 0, 0].T + m.fc2.bias
    )
    torch.testing.assert_close(m(x), x * s[:, :, None, None])


def _cna(block, t, pad):
    t = F.conv2d(t, block.conv.weight, padding=pad)
    bn = block.bn
    t = (t - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    return F.relu(t * bn.weight[:, None, None] + bn.bias[:, None, None])


def test_spatial_gate_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("hattmatting-spatial", channels=4, guide_channels=6, kernel_size=3).double().eval()
    for bn in [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]:
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 4, 8, 6, dtype=torch.float64)
    g = torch.randn(2, 6, 4, 3, dtype=torch.float64)
    # the guide is upsampled x2 exactly, so bilinear (align_corners=False) equals F.interpolate's scale path
    gu = F.interpolate(g, scale_factor=2, mode="bilinear", align_corners=False)
    b1 = _cna(m.branch1[1], _cna(m.branch1[0], gu, (0, 1)), (1, 0))
    b2 = _cna(m.branch2[1], _cna(m.branch2[0], gu, (1, 0)), (0, 1))
    a = torch.sigmoid(b1 + b2)
    assert a.shape == (2, 1, 8, 6) and ((a > 0) & (a < 1)).all()
    torch.testing.assert_close(m(x, g), x * a)
