import pytest
import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    # two grouped convs (groups * parts groups) + one dense conv (groups groups), masked entries included
    for cin, cout, k, g, parts, bias in [(64, 64, 3, 1, 4, False), (64, 128, 5, 2, 2, True)]:
        m = cvattn.create(
            "psconv",
            in_channels=cin,
            out_channels=cout,
            kernel_size=k,
            padding=k // 2,
            groups=g,
            parts=parts,
            bias=bias,
        )
        expected = 2 * cout * cin // (g * parts) * k * k + cout * cin // g * k * k + 3 * cout * bias
        assert sum(p.numel() for p in m.parameters()) == expected


def _reference(m, x, k, stride, padding, d, groups, parts):
    """Sum over (output part, input part) blocks of plain dilated convolutions with F.conv2d."""
    cin, cout = x.shape[1], m.out_channels
    ci, co = cin // (groups * parts), cout // (groups * parts)
    cin_g = cin // groups
    out = 0
    for j in range(groups):
        for o in range(parts):
            rows = slice((j * parts + o) * co, (j * parts + o + 1) * co)
            y = 0
            for i in range(parts):
                x_i = x[:, j * cin_g + i * ci : j * cin_g + (i + 1) * ci]
                if o == i:  # diagonal: rate d, weights of the first grouped conv
                    rate, w = d, m.gwconv.weight[rows]
                elif o == (i + parts // 2) % parts:  # shifted diagonal: rate 2d, second grouped conv
                    rate, w = 2 * d, m.gwconv_shift.weight[rows]
                else:  # everything else: rate 1, block of the dense conv
                    rate, w = 1, m.conv.weight[rows, i * ci : (i + 1) * ci]
                pad = padding + (rate - 1) * (k - 1) // 2
                y = y + F.conv2d(x_i, w, stride=stride, padding=pad, dilation=rate)
            block = torch.zeros(x.shape[0], cout, *y.shape[2:], dtype=x.dtype)
            block[:, rows] = y
            out = out + block
    return out


@pytest.mark.parametrize(
    "k, stride, padding, d, groups, parts",
    [(3, 1, 1, 2, 1, 4), (3, 2, 1, 1, 2, 4), (5, 1, 2, 2, 1, 2), (3, 1, 0, 3, 1, 6)],
)
def test_matches_blockwise_dilated_convolutions(k, stride, padding, d, groups, parts):
    torch.manual_seed(0)
    cin, cout = 12 * groups, 24 * groups
    m = cvattn.create(
        "psconv",
        in_channels=cin,
        out_channels=cout,
        kernel_size=k,
        stride=stride,
        padding=padding,
        dilation=d,
        groups=groups,
        parts=parts,
    ).double()
    x = torch.randn(2, cin, 13, 17, dtype=torch.float64)
    out = m(x)
    torch.testing.assert_close(out, _reference(m, x, k, stride, padding, d, groups, parts))
    # same output size as the plain convolution it replaces
    assert out.shape == torch.nn.Conv2d(cin, cout, k, stride, padding)(x.float()).shape


def test_masked_dense_weights_are_inert():
    m = cvattn.create("psconv", in_channels=8, out_channels=8, dilation=2).double()
    with torch.no_grad():
        m.conv.weight.add_(5.0)  # e.g. weight decay or a foreign checkpoint touching the masked entries
    x = torch.randn(1, 8, 7, 7, dtype=torch.float64)
    out = m(x)
    torch.testing.assert_close(out, _reference(m, x, 3, 1, 1, 2, 1, 4))  # reads no masked block
    out.sum().backward()
    # the diagonal (rate d) and shifted-diagonal (rate 2d) blocks of the dense weight get no gradient
    for i in range(4):
        for o in (i, (i + 2) % 4):
            assert m.conv.weight.grad[o * 2 : o * 2 + 2, i * 2 : i * 2 + 2].abs().sum() == 0


def test_rejects_bad_configuration():
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("psconv", in_channels=30, out_channels=32)
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("psconv", kernel_size=4)
