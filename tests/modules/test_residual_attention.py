import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _unit_count(c, b):
    return 2 * c + c * b + 2 * b + 9 * b * b + 2 * b + b * c  # BN, 1x1, BN, 3x3, BN, 1x1 (no conv bias)


def _count(c, d, p, t, r, reduction):
    units = 2 * p + t + (d - 1) * (2 * r + 1) + 2 * r
    return units * _unit_count(c, c // reduction) + 2 * (2 * c + c * c)  # mask head: 2 x (BN, 1x1)


def test_parameter_count_closed_form():
    # the official AttentionA (stage 1 of Attention-56) has 12 units; AttentionC (stage 3) has 7
    for c, d, p, t, r, red in [(64, 3, 1, 2, 1, 4), (32, 1, 1, 2, 1, 4), (16, 2, 2, 1, 2, 2)]:
        m = cvattn.create(
            "residual-attention",
            channels=c,
            num_downsamples=d,
            pre_units=p,
            trunk_units=t,
            mask_units=r,
            reduction=red,
        )
        assert sum(q.numel() for q in m.parameters()) == _count(c, d, p, t, r, red)


def _bn(x, bn):
    shape = (1, -1, 1, 1)
    return (x - bn.running_mean.view(shape)) / torch.sqrt(
        bn.running_var.view(shape) + bn.eps
    ) * bn.weight.view(shape) + bn.bias.view(shape)


def _conv(x, conv):
    k = conv.weight.shape[-1]
    return F.conv2d(x, conv.weight, padding=k // 2)


def _unit(x, unit):
    bn1, _, c1, bn2, _, c2, bn3, _, c3 = unit.body
    y = _conv(torch.relu(_bn(x, bn1)), c1)
    y = _conv(torch.relu(_bn(y, bn2)), c2)
    return x + _conv(torch.relu(_bn(y, bn3)), c3)


def _units(x, seq):
    for unit in seq:
        x = _unit(x, unit)
    return x


def _maxpool_ceil(x):
    """3x3 max pooling, stride 2, no padding, output size rounded up as in Caffe."""
    h, w = x.shape[2:]
    oh, ow = math.ceil((h - 3) / 2) + 1, math.ceil((w - 3) / 2) + 1
    x = F.pad(x, (0, 2 * (ow - 1) + 3 - w, 0, 2 * (oh - 1) + 3 - h), value=-math.inf)
    return x.unfold(2, 3, 2).unfold(3, 3, 2).amax((-1, -2))


def _interp_corners(x, size):
    """Bilinear resize mapping corner pixel centres onto each other (Caffe Interp)."""

    def axis(n_in, n_out):
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        src = torch.arange(n_out, dtype=torch.float64) * scale
        i0 = src.floor().long().clamp(max=n_in - 1)
        i1 = (i0 + 1).clamp(max=n_in - 1)
        return i0, i1, src - i0

    (h0, h1, dh), (w0, w1, dw) = axis(x.shape[2], size[0]), axis(x.shape[3], size[1])
    top = x[:, :, h0][..., w0] * (1 - dw) + x[:, :, h0][..., w1] * dw
    bottom = x[:, :, h1][..., w0] * (1 - dw) + x[:, :, h1][..., w1] * dw
    return top * (1 - dh[:, None]) + bottom * dh[:, None]


def _reference(m, x):
    x = _units(x, m.pre)
    t = _units(x, m.trunk)
    d = m.num_downsamples
    levels, s = [], x
    for i in range(d - 1):
        s = _units(_maxpool_ceil(s), m.down[i])
        levels.append(s)
    s = _units(_maxpool_ceil(s), m.bottom)
    for i in reversed(range(d - 1)):
        s = _units(_interp_corners(s, levels[i].shape[2:]) + _units(levels[i], m.skip[i]), m.up[i])
    s = _interp_corners(s, x.shape[2:])
    bn1, _, c1, bn2, _, c2, _ = m.mask_head
    mask = torch.sigmoid(_conv(torch.relu(_bn(_conv(torch.relu(_bn(s, bn1)), c1), bn2)), c2))
    return _units(t + mask * t, m.post)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_matches_reference_on_non_square_input(d):
    torch.manual_seed(d)
    m = cvattn.create("residual-attention", channels=8, num_downsamples=d).double()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(std=0.2)
                mod.running_mean.normal_(std=0.2)
                mod.running_var.uniform_(0.5, 2.0)
    m.eval()
    x = torch.randn(2, 8, 13, 11, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_attention_residual_learning_keeps_the_trunk():
    torch.manual_seed(0)
    m = cvattn.create("residual-attention", channels=8, num_downsamples=2, pre_units=0).eval()
    x = torch.randn(1, 8, 9, 10)
    mask = m.mask(x)
    assert mask.shape == x.shape and (mask > 0).all() and (mask < 1).all()
    t = m.trunk(x)
    out = m(x)
    torch.testing.assert_close(out, (1 + mask) * t)
    # the mask only amplifies: |H| lies between |T| and 2|T|
    assert (out.abs() >= t.abs() - 1e-6).all() and (out.abs() <= 2 * t.abs() + 1e-6).all()
