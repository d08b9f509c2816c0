import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _conv_params(cin, cout, k, groups=1, bias=False):
    if cin == 0 or cout == 0:
        return 0
    return cin // groups * cout * k * k + (cout if bias else 0)


@pytest.mark.parametrize(
    "cin, cout, k, a_in, a_out, groups",
    [
        (64, 64, 3, 0.5, 0.5, 1),
        (64, 32, 3, 0.0, 0.25, 1),
        (48, 40, 1, 0.25, 0.0, 1),
        (32, 64, 3, 0.5, 0.5, 4),
    ],
)
def test_parameter_count_closed_form(cin, cout, k, a_in, a_out, groups):
    m = cvattn.create(
        "octconv",
        in_channels=cin,
        out_channels=cout,
        kernel_size=k,
        alpha_in=a_in,
        alpha_out=a_out,
        groups=groups,
    )
    il, ol = int(a_in * cin), int(a_out * cout)
    ih, oh = cin - il, cout - ol
    expected = (
        _conv_params(ih, oh, k, groups, bias=True)  # H->H carries the high part's bias
        + _conv_params(ih, ol, k, groups, bias=True)  # H->L carries the low part's bias
        + _conv_params(il, oh, k, groups)
        + _conv_params(il, ol, k, groups)
    )
    assert sum(p.numel() for p in m.parameters()) == expected


def test_depthwise_form_has_only_the_same_frequency_paths():
    m = cvattn.create("octconv", in_channels=32, out_channels=32, groups=32)
    assert m.conv_h2l is None and m.conv_l2h is None
    assert sum(p.numel() for p in m.parameters()) == 32 * 9 + 16 + 16  # 16 + 16 depthwise 3x3 with biases


def _pool(x, s):
    # mean over each s x s block, a partial block at the border over the pixels it has
    h, w = x.shape[-2:]
    out = torch.zeros(*x.shape[:2], math.ceil(h / s), math.ceil(w / s), dtype=x.dtype)
    for i in range(out.shape[-2]):
        for j in range(out.shape[-1]):
            out[..., i, j] = x[..., i * s : (i + 1) * s, j * s : (j + 1) * s].mean((-2, -1))
    return out


def _up(x, h, w):
    # each low-resolution pixel copied into its 2 x 2 block, cropped to (h, w)
    return x.repeat_interleave(2, -2).repeat_interleave(2, -1)[..., :h, :w]


def _reference(m, x_h, x_l, stride):
    def conv(c, x):
        return F.conv2d(x, c.weight, c.bias, padding=c.padding, dilation=c.dilation, groups=c.groups)

    if stride == 2:
        x_h, x_h4, x_l2 = _pool(x_h, 2), _pool(x_h, 4), (_pool(x_l, 2) if x_l is not None else None)
    else:
        x_h4, x_l2 = _pool(x_h, 2), x_l
    y_h = conv(m.conv_h2h, x_h)
    if m.conv_l2h is not None:
        z = conv(m.conv_l2h, x_l)
        y_h = y_h + (z if stride == 2 else _up(z, *y_h.shape[-2:]))
    if m.out_l == 0:
        return (y_h,)
    y_l = 0
    if m.conv_h2l is not None:
        y_l = y_l + conv(m.conv_h2l, x_h4)
    if m.conv_l2l is not None:
        y_l = y_l + conv(m.conv_l2l, x_l2)
    return y_h, y_l


@pytest.mark.parametrize(
    "a_in, a_out, stride, size, groups",
    [
        (0.5, 0.5, 1, (8, 12), 1),
        (0.25, 0.5, 1, (13, 17), 1),  # odd: partial pooling windows, cropped upsampling
        (0.5, 0.5, 2, (8, 12), 1),
        (0.5, 0.25, 2, (13, 10), 2),
        (0.0, 0.5, 1, (9, 8), 1),  # first layer
        (0.5, 0.0, 2, (8, 8), 1),  # last layer
        (0.5, 0.5, 1, (8, 6), 16),  # depthwise
    ],
)
def test_matches_reference(a_in, a_out, stride, size, groups):
    torch.manual_seed(0)
    m = cvattn.create(
        "octconv",
        in_channels=16,
        out_channels=16,
        alpha_in=a_in,
        alpha_out=a_out,
        stride=stride,
        groups=groups,
    ).double()
    h, w = size
    x_h = torch.randn(2, m.in_h, h, w, dtype=torch.float64)
    x_l = torch.randn(2, m.in_l, (h + 1) // 2, (w + 1) // 2, dtype=torch.float64) if m.in_l else None
    out = m(x_h, x_l) if x_l is not None else m(x_h)
    out = out if isinstance(out, tuple) else (out,)
    for y, r in zip(out, _reference(m, x_h, x_l, stride), strict=True):
        torch.testing.assert_close(y, r)
        assert y.is_contiguous()
    assert out[0].shape[-2:] == ((h + stride - 1) // stride, (w + stride - 1) // stride)


def test_octave_pair_with_alpha_zero_is_a_plain_conv():
    torch.manual_seed(0)
    m = cvattn.create("octconv", in_channels=8, out_channels=12, alpha_in=0.0, alpha_out=0.0)
    x = torch.randn(2, 8, 9, 7)
    torch.testing.assert_close(m(x), F.conv2d(x, m.conv_h2h.weight, m.conv_h2h.bias, padding=1))


def test_first_general_last_chain_takes_and_returns_a_map():
    first = cvattn.create("octconv-first", in_channels=16, out_channels=32)
    mid = cvattn.create("octconv", in_channels=32, out_channels=32, stride=2)
    last = cvattn.create("octconv-last", in_channels=32, out_channels=24)
    x = torch.randn(2, 16, 15, 21)
    x_h, x_l = first(x)
    assert x_h.shape == (2, 16, 15, 21) and x_l.shape == (2, 16, 8, 11)
    y = last(*mid(x_h, x_l))
    assert y.shape == (2, 24, 8, 11)


def test_rejects_bad_arguments_and_input():
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("octconv", in_channels=16, out_channels=16, stride=3)
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("octconv", in_channels=16, out_channels=16, alpha_in=1.0)
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("octconv", in_channels=16, out_channels=32, groups=16)
    m = cvattn.create("octconv", in_channels=16, out_channels=16)
    x_h = torch.randn(2, 8, 8, 8)
    with pytest.raises(ValueError, match="expected"):
        m(x_h)  # the low part is missing
    with pytest.raises(ValueError, match="expected"):
        m(x_h, torch.randn(2, 8, 8, 8))  # low part at full resolution
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("octconv-first", in_channels=16, out_channels=16)(torch.randn(2, 16, 8, 8), x_h)
