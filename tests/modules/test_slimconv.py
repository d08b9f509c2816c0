import pytest
import torch
import torch.nn.functional as F

import cvattn


def closed_form(c, g=1, r=32):
    h = max(c // r, 1)
    weights = c * h + 2 * h + h * c + c  # 1x1 (no bias), BN, 1x1 (bias)
    top = (c // 2) * (c // 2 // g) * 9 + 2 * (c // 2)  # 3x3 + BN
    bot = (c // 2) * (c // 4) + 2 * (c // 4) + (c // 4) * (c // 4 // g) * 9 + 2 * (c // 4)
    return weights + top + bot


def test_parameter_count_closed_form():
    for c, g, r in [(64, 1, 32), (96, 4, 16)]:
        m = cvattn.create("slimconv", in_channels=c, groups=g, reduction=r)
        assert sum(p.numel() for p in m.parameters()) == closed_form(c, g, r)
        assert m.out_channels == c // 2 + c // 4


def _bn(z, bn):
    s = (1, -1, 1, 1)
    return (z - bn.running_mean.view(s)) / (bn.running_var.view(s) + bn.eps).sqrt() * bn.weight.view(
        s
    ) + bn.bias.view(s)


@pytest.mark.parametrize("stride, dilation, groups", [(1, 1, 1), (2, 2, 2)])
def test_reweight_fold_transform_match_reference(stride, dilation, groups):
    c = 16
    m = cvattn.create(
        "slimconv", in_channels=c, stride=stride, dilation=dilation, groups=groups, reduction=4
    ).double()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
    m.eval()
    x = torch.randn(2, c, 13, 17, dtype=torch.float64)
    fc1, fc_bn, _, fc2, _ = m.fc
    # channel weights from the pooled input, by hand
    z = torch.einsum("hc,nc->nh", fc1.weight[:, :, 0, 0], x.mean((2, 3)))
    z = F.relu(_bn(z[:, :, None, None], fc_bn))[:, :, 0, 0]
    w = torch.sigmoid(z @ fc2.weight[:, :, 0, 0].T + fc2.bias)  # (N, C)
    w_rev = w[:, list(range(c - 1, -1, -1))]
    x_w = x * w[:, :, None, None]
    x_w_rev = x * w_rev[:, :, None, None]
    x_top = x_w[:, : c // 2] + x_w[:, c // 2 :]
    x_bot = x_w_rev[:, : c // 2] + x_w_rev[:, c // 2 :]
    conv3 = dict(stride=stride, padding=dilation, dilation=dilation, groups=groups)
    conv_t, bn_t = m.conv_top
    y_top = _bn(F.conv2d(x_top, conv_t.weight, **conv3), bn_t)
    c1, bn1, _, c3, bn3 = m.conv_bot
    y_bot = F.relu(_bn(F.conv2d(x_bot, c1.weight), bn1))
    y_bot = _bn(F.conv2d(y_bot, c3.weight, **conv3), bn3)
    with torch.no_grad():
        out = m(x)
    assert out.shape == (2, c // 2 + c // 4, (13 - 1) // stride + 1, (17 - 1) // stride + 1)
    torch.testing.assert_close(out, torch.cat([y_top, y_bot], 1))


def test_invalid_configurations_are_refused():
    with pytest.raises(ValueError, match="even"):
        cvattn.create("slimconv", in_channels=30 + 1)
    with pytest.raises(ValueError, match="groups"):
        cvattn.create("slimconv", in_channels=24, groups=4)  # C/4 = 6 not divisible by 4
