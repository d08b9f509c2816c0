import math

import pytest
import torch
import torch.nn.functional as F

import cvattn
from cvattn.attention.dynamic_head import DyHeadDeformConv, _modulated_deform_conv3x3


def _pyramid(c, sizes, batch=2):
    return tuple(torch.randn(batch, c, *s, dtype=torch.float64) for s in sizes)


@pytest.mark.parametrize("c", [16, 64, 256])
def test_parameter_count_closed_form(c):
    m = cvattn.create("dynamic-head", channels=c, num_levels=5)
    offset = c * 27 * 9 + 27
    spatial = 3 * (c * c * 9 + c + 2 * c)  # three deformable convs with bias, each with a GroupNorm
    scale = c + 1
    task = c * (c // 4) + c // 4 + (c // 4) * 4 * c + 4 * c
    assert sum(p.numel() for p in m.parameters()) == offset + spatial + scale + task


def _bilinear_zero_outside(img, y, x):
    """img (C, H, W) at a real point, zero outside the map, written corner by corner."""
    c, h, w = img.shape
    y0, x0 = math.floor(y), math.floor(x)
    val = torch.zeros(c, dtype=img.dtype)
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                val = val + wy * wx * img[:, yy, xx]
    return val


@pytest.mark.parametrize("stride", [1, 2])
def test_deformable_conv_matches_point_by_point_dcn_v2(stride):
    # before the GroupNorm: the sampling and the modulated sum, one output position and tap at a time
    torch.manual_seed(0)
    conv = DyHeadDeformConv(16, stride).double()
    x = torch.randn(1, 16, 5, 4, dtype=torch.float64)
    ho, wo = (5 - 1) // stride + 1, (4 - 1) // stride + 1
    offset = 1.5 * torch.randn(1, 18, ho, wo, dtype=torch.float64)
    mask = torch.rand(1, 9, ho, wo, dtype=torch.float64)
    got = _modulated_deform_conv3x3(x, offset, mask, conv.weight, conv.bias, stride)
    want = torch.empty(1, 16, ho, wo, dtype=torch.float64)
    for i in range(ho):
        for j in range(wo):
            acc = conv.bias.clone()
            for t in range(9):
                ky, kx = divmod(t, 3)
                y = i * stride - 1 + ky + float(offset[0, 2 * t, i, j])
                xx = j * stride - 1 + kx + float(offset[0, 2 * t + 1, i, j])
                v = _bilinear_zero_outside(x[0], y, xx) * mask[0, t, i, j]
                acc = acc + conv.weight[:, :, ky, kx] @ v
            want[0, :, i, j] = acc
    torch.testing.assert_close(got, want)


def test_zero_offsets_full_mask_is_a_plain_conv():
    conv = DyHeadDeformConv(16, 2).double()
    x = torch.randn(2, 16, 7, 6, dtype=torch.float64)
    zeros, ones = torch.zeros(2, 18, 4, 3, dtype=torch.float64), torch.ones(2, 9, 4, 3, dtype=torch.float64)
    want = conv.norm(F.conv2d(x, conv.weight, conv.bias, stride=2, padding=1))
    torch.testing.assert_close(conv(x, zeros, ones), want)


def test_coarser_level_reads_the_offset_buffer_with_its_own_size():
    # official kernel behaviour: offsets of size (H, W) used for an output of size (h, w) are read as the first
    # 18 h w values of each sample's buffer
    conv = DyHeadDeformConv(16, 1).double()
    x = torch.randn(2, 16, 3, 2, dtype=torch.float64)
    offset, mask = torch.randn(2, 18, 6, 4, dtype=torch.float64), torch.rand(2, 9, 6, 4, dtype=torch.float64)
    flat_o = offset.reshape(2, -1)[:, : 18 * 6].reshape(2, 18, 3, 2)
    flat_m = mask.reshape(2, -1)[:, : 9 * 6].reshape(2, 9, 3, 2)
    torch.testing.assert_close(conv(x, offset, mask), conv(x, flat_o, flat_m))


def test_block_matches_reference_with_zero_offsets():
    # zero offset conv: offsets 0 and masks sigmoid(0) = 1/2, so every deformable conv is 0.5 conv + bias
    torch.manual_seed(1)
    m = cvattn.create("dynamic-head", channels=16, num_levels=3).double()
    with torch.no_grad():
        m.offset.weight.zero_()
        m.offset.bias.zero_()
        m.scale_attn.weight.normal_(0, 0.3)
    xs = _pyramid(16, [(8, 6), (4, 3), (2, 2)])

    def spatial(conv, x, stride):
        y = 0.5 * F.conv2d(x, conv.weight, None, stride=stride, padding=1) + conv.bias[:, None, None]
        return F.group_norm(y, 16, conv.norm.weight, conv.norm.bias)

    def hsig(t):
        return torch.clamp(t + 3, 0, 6) / 6

    want = []
    for i, x in enumerate(xs):
        feats = [spatial(m.spatial_conv_mid, x, 1)]
        if i > 0:
            feats.append(spatial(m.spatial_conv_low, xs[i - 1], 2))
        if i < 2:
            up = spatial(m.spatial_conv_high, xs[i + 1], 1)
            feats.append(F.interpolate(up, size=x.shape[-2:], mode="bilinear", align_corners=True))
        weights = [
            hsig(torch.relu(f.mean((2, 3)) @ m.scale_attn.weight[0, :, 0, 0] + m.scale_attn.bias))
            for f in feats
        ]
        fused = sum(f * w[:, None, None, None] for f, w in zip(feats, weights, strict=True)) / len(feats)
        th = hsig(m.task_attn.fc2(torch.relu(m.task_attn.fc1(fused.mean((2, 3))))))
        a1, b1, a2, b2 = (th[:, k * 16 : (k + 1) * 16, None, None] for k in range(4))
        want.append(torch.max(fused * (2 * a1) + (b1 - 0.5), fused * (2 * a2 - 1) + (b2 - 0.5)))
    for got, ref in zip(m(*xs), want, strict=True):
        torch.testing.assert_close(got, ref)


def test_task_attention_starts_near_relu():
    # with theta = 1/2 the coefficients are a1 = 1, a2 = 0, b1 = b2 = 0: DyReLU is max(x, 0)
    m = cvattn.create("dynamic-head", channels=16, num_levels=1).task_attn.double()
    with torch.no_grad():
        m.fc2.weight.zero_()
        m.fc2.bias.zero_()
    x = torch.randn(2, 16, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(m(x), torch.relu(x))


def test_pyramid_checks():
    m = cvattn.create("dynamic-head", channels=16, num_levels=2)
    with pytest.raises(ValueError, match="expected 2 pyramid levels"):
        m(torch.randn(1, 16, 8, 8))
    with pytest.raises(ValueError, match="expected the size of level 0 halved"):
        m(torch.randn(1, 16, 8, 8), torch.randn(1, 16, 3, 4))
    with pytest.raises(ValueError, match="multiple of 16"):
        cvattn.create("dynamic-head", channels=24)
