import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


@pytest.mark.parametrize("cin, cout, k", [(32, 32, 9), (6, 8, 5), (3, 4, 1)])
def test_parameter_count_closed_form(cin, cout, k):
    for morph in (0, 1):
        m = cvattn.create("dsconv", in_channels=cin, out_channels=cout, kernel_size=k, morph=morph)
        offset = cin * 2 * k * 9 + 2 * k + 2 * 2 * k  # 3x3 offset conv with bias, GroupNorm(K, 2K)
        snake = cin * cout * k + cout + 2 * cout  # K x 1 (or 1 x K) conv with bias, GroupNorm
        assert sum(p.numel() for p in m.parameters()) == offset + snake


def _group_norm(z, groups, weight, bias, eps=1e-5):
    n, c, h, w = z.shape
    g = z.reshape(n, groups, -1)
    g = (g - g.mean(-1, keepdim=True)) / torch.sqrt(g.var(-1, unbiased=False, keepdim=True) + eps)
    return g.reshape(n, c, h, w) * weight[:, None, None] + bias[:, None, None]


def _bilinear(x, py, px):
    # x: (C, H, W); one sample at (py, px), already inside the map
    h, w = x.shape[-2:]
    y0, x0 = math.floor(py), math.floor(px)
    out = torch.zeros(x.shape[0], dtype=x.dtype)
    for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
        for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            if 0 <= yy < h and 0 <= xx < w and wy * wx != 0:
                out = out + wy * wx * x[:, yy, xx]
    return out


def _reference(m, x):
    # every tap of every pixel placed by hand: the centre tap on the pixel, each further tap one step along the
    # kernel's axis from its neighbour and displaced across it by its own offset plus its neighbour's displacement
    k, c, scope, morph = m.kernel_size, m.kernel_size // 2, m.extend_scope, m.morph
    off = F.conv2d(x, m.offset_conv.weight, m.offset_conv.bias, padding=1)
    off = torch.tanh(_group_norm(off, k, m.gn_offset.weight, m.gn_offset.bias))
    delta = (off[:, :k] if morph == 0 else off[:, k:]).tolist()
    n, cin, h, w = x.shape
    sampled = torch.zeros(n, cin, k, h, w, dtype=x.dtype)
    for b in range(n):
        for r in range(h):
            for col in range(w):
                disp = [0.0] * k
                for i in range(1, c + 1):
                    disp[c + i] = disp[c + i - 1] + delta[b][c + i][r][col]
                    disp[c - i] = disp[c - i + 1] + delta[b][c - i][r][col]
                for j in range(k):
                    if morph == 0:
                        py, px = r + scope * disp[j], col + j - c
                    else:
                        py, px = r + j - c, col + scope * disp[j]
                    py, px = min(max(py, 0), h - 1), min(max(px, 0), w - 1)
                    sampled[b, :, j, r, col] = _bilinear(x[b], py, px)
    weight = m.dsc_conv.weight.flatten(2)  # (O, C, K)
    y = torch.einsum("ncjhw,ocj->nohw", sampled, weight) + m.dsc_conv.bias[:, None, None]
    return torch.relu(_group_norm(y, y.shape[1] // 4, m.gn.weight, m.gn.bias))


@pytest.mark.parametrize("morph, k, scope", [(0, 5, 1.0), (1, 5, 1.0), (0, 3, 2.5), (1, 7, 0.5)])
def test_matches_reference(morph, k, scope):
    torch.manual_seed(0)
    m = cvattn.create("dsconv", in_channels=3, out_channels=8, kernel_size=k, extend_scope=scope, morph=morph)
    m = m.double()
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.5)
    x = torch.randn(2, 3, 6, 7, dtype=torch.float64)
    y = m(x)
    torch.testing.assert_close(y, _reference(m, x), rtol=1e-9, atol=1e-9)
    assert y.is_contiguous()


@pytest.mark.parametrize("morph", [0, 1])
def test_straight_snake_is_a_strip_conv_with_border_replication(morph):
    # zero offsets: the kernel lies straight, a 1 x K (morph 0) or K x 1 (morph 1) conv on a replicate-padded map
    torch.manual_seed(1)
    k = 5
    m = cvattn.create("dsconv", in_channels=4, out_channels=8, kernel_size=k, morph=morph).double().eval()
    with torch.no_grad():
        m.offset_conv.weight.zero_()
        m.offset_conv.bias.zero_()
        m.gn_offset.bias.zero_()
    x = torch.randn(2, 4, 7, 9, dtype=torch.float64)
    # the strided conv's K x 1 (1 x K) kernel reads the taps stacked across the kernel's axis: transposed,
    # it is the strip kernel along it
    pad = (k // 2, k // 2, 0, 0) if morph == 0 else (0, 0, k // 2, k // 2)
    y = F.conv2d(F.pad(x, pad, mode="replicate"), m.dsc_conv.weight.transpose(2, 3), m.dsc_conv.bias)
    y = torch.relu(_group_norm(y, 2, m.gn.weight, m.gn.bias))
    torch.testing.assert_close(m(x), y)


def test_height_or_width_one_is_sampled_at_its_only_row_or_column():
    m = cvattn.create("dsconv", in_channels=4, out_channels=8, kernel_size=5).eval()
    for shape in [(2, 4, 1, 9), (2, 4, 9, 1), (1, 4, 1, 1)]:
        y = m(torch.randn(shape))
        assert y.shape == (shape[0], 8, *shape[2:]) and torch.isfinite(y).all()


def test_rejects_bad_arguments_and_input():
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("dsconv", in_channels=4, out_channels=6)
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("dsconv", in_channels=4, out_channels=8, kernel_size=4)
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("dsconv", in_channels=4, out_channels=8, morph=2)
    m = cvattn.create("dsconv", in_channels=4, out_channels=8)
    with pytest.raises(ValueError, match="expected"):
        m(torch.randn(2, 3, 7, 7))
