import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, k, s, d):
    m = math.ceil(c / s)
    ghost = (c * m * k * k + 2 * m) + (m * (s - 1) * d * d + 2 * m * (s - 1))  # primary + cheap, each with BN
    dfc = (c * c * k * k + 2 * c) + 2 * (5 * c + 2 * c)  # k x k conv + BN, 1x5 and 5x1 depthwise + BN
    return ghost + dfc


def test_parameter_count_closed_form():
    for c, k, s, d in ((64, 1, 2, 3), (30, 3, 4, 5)):
        m = cvattn.create("ghostnetv2-dfc", channels=c, kernel_size=k, ratio=s, dw_size=d)
        assert sum(p.numel() for p in m.parameters()) == _count(c, k, s, d)


def _conv(x, weight, groups=1):
    """Zero-padded 'same' cross-correlation written as a sum over kernel offsets (odd kernels, stride 1)."""
    n, c, h, w = x.shape
    kh, kw = weight.shape[-2:]
    xp = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2))
    out = torch.zeros(n, weight.shape[0], h, w, dtype=x.dtype)
    cin, cout = c // groups, weight.shape[0] // groups
    for i in range(kh):
        for j in range(kw):
            patch = xp[..., i : i + h, j : j + w]
            for g in range(groups):
                wg = weight[g * cout : (g + 1) * cout, :, i, j]
                out[:, g * cout : (g + 1) * cout] += torch.einsum(
                    "oc,nchw->nohw", wg, patch[:, g * cin : (g + 1) * cin]
                )
    return out


def _bn(x, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return (x - bn.running_mean[:, None, None]) * scale[:, None, None] + bn.bias[:, None, None]


def _reference(m, x):
    n, c, h, w = x.shape
    p, q = m.ghost.primary_conv, m.ghost.cheap_operation
    y1 = _bn(_conv(x, p.conv.weight), p.bn).clamp_min(0)
    y2 = _bn(_conv(y1, q.conv.weight, groups=y1.shape[1]), q.bn).clamp_min(0)
    y = torch.cat([y1, y2], 1)[:, :c]
    hp, wp = h // 2, w // 2
    z = x[:, :, : 2 * hp, : 2 * wp].reshape(n, c, hp, 2, wp, 2).mean((3, 5))  # 2x2 average pooling
    for i, stage in enumerate(m.dfc):
        z = _bn(_conv(z, stage.conv.weight, groups=1 if i == 0 else c), stage.bn)
    gate = 1 / (1 + torch.exp(-z))
    rows = torch.arange(h) * hp // h  # nearest: source index floor(i * in / out)
    cols = torch.arange(w) * wp // w
    return y * gate[:, :, rows][:, :, :, cols]


def test_matches_reference_on_odd_size():
    torch.manual_seed(0)
    m = cvattn.create("ghostnetv2-dfc", channels=6, kernel_size=3, ratio=3).double().eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.2)
    x = torch.randn(2, 6, 9, 11, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_gate_is_constant_on_2x2_cells():
    # the gate is computed at half resolution: output / ghost features repeat over each 2x2 cell
    torch.manual_seed(0)
    m = cvattn.create("ghostnetv2-dfc", channels=8, relu=False).double().eval()  # no zeros to divide by
    x = torch.randn(1, 8, 6, 8, dtype=torch.float64)
    ratio = m(x) / m.ghost(x)
    cells = ratio.reshape(1, 8, 3, 2, 4, 2)
    torch.testing.assert_close(cells, cells[:, :, :, :1, :, :1].expand_as(cells))


def test_bad_arguments_and_too_small_input_raise():
    with pytest.raises(ValueError):
        cvattn.create("ghostnetv2-dfc", channels=8, ratio=1)
    with pytest.raises(ValueError, match="at least 2"):
        cvattn.create("ghostnetv2-dfc", channels=8)(torch.randn(1, 8, 1, 5))
