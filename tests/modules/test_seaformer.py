import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, kd, h, r, lp=16):
    nh, dh = kd * h, int(r * kd) * h
    n = 2 * (c * nh + 2 * nh) + c * dh + 2 * dh  # to_q, to_k, to_v (1x1 conv + BN)
    n += 4 * nh * lp  # row/column positional embeddings of q and k
    n += 2 * (dh * dh + 2 * dh)  # row and column encodings
    n += dh * c + 2 * c  # projection
    n += (2 * nh + dh) * 9 + 2 * (2 * nh + dh)  # depthwise 3x3 conv-BN of the detail branch
    n += (2 * nh + dh) * c + 2 * c  # pointwise conv-BN of the detail branch
    return n


def test_parameter_count_closed_form():
    for c, kd, h, r in [(64, 16, 4, 2), (96, 24, 6, 1.5)]:
        m = cvattn.create("seaformer", channels=c, key_dim=kd, num_heads=h, attn_ratio=r)
        assert sum(p.numel() for p in m.parameters()) == _count(c, kd, h, r)


def _conv_bn(x, block, groups=1, padding=0):
    y = F.conv2d(x, block.conv.weight, None, padding=padding, groups=groups)
    bn = block.bn
    y = (y - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    return y * bn.weight[:, None, None] + bn.bias[:, None, None]


def _interp_linear(p, n):
    """Linear interpolation of (1, C, L) to length n, half-pixel centres (align_corners=False), by hand."""
    length = p.shape[-1]
    out = []
    for i in range(n):
        src = max((i + 0.5) * length / n - 0.5, 0.0)
        i0 = min(int(math.floor(src)), length - 1)
        i1 = min(i0 + 1, length - 1)
        lam = src - i0
        out.append((1 - lam) * p[..., i0] + lam * p[..., i1])
    return torch.stack(out, -1)


def _attend(q, k, v, heads, kd):
    b, _, length = q.shape
    q, k = q.reshape(b, heads, kd, length), k.reshape(b, heads, kd, length)
    v = v.reshape(b, heads, -1, length)
    logits = torch.einsum("bhci,bhcj->bhij", q, k) / math.sqrt(kd)
    a = torch.exp(logits - logits.amax(-1, keepdim=True))
    a = a / a.sum(-1, keepdim=True)
    return torch.einsum("bhij,bhcj->bhci", a, v).reshape(b, -1, length)


def _reference(m, x, heads, kd):
    relu6 = lambda t: t.clamp(0, 6)  # noqa: E731
    q, k, v = _conv_bn(x, m.to_q), _conv_bn(x, m.to_k), _conv_bn(x, m.to_v)
    qkv = torch.cat((q, k, v), 1)
    detail = _conv_bn(relu6(_conv_bn(qkv, m.dwconv, groups=qkv.shape[1], padding=1)), m.pwconv)
    h, w = x.shape[-2:]
    qr = q.mean(3) + _interp_linear(m.pos_row_q.pos_embed, h)
    kr = k.mean(3) + _interp_linear(m.pos_row_k.pos_embed, h)
    qc = q.mean(2) + _interp_linear(m.pos_col_q.pos_embed, w)
    kc = k.mean(2) + _interp_linear(m.pos_col_k.pos_embed, w)
    y_row = _conv_bn(relu6(_attend(qr, kr, v.mean(3), heads, kd))[..., None], m.encode_row)  # (B, dh, H, 1)
    y_col = _conv_bn(
        relu6(_attend(qc, kc, v.mean(2), heads, kd))[..., None, :], m.encode_col
    )  # (B, dh, 1, W)
    s = v + y_row + y_col
    gate = relu6(_conv_bn(relu6(s), m.proj) + 3) / 6
    return gate * detail


def test_matches_reference_on_non_square_input():
    torch.manual_seed(0)
    m = cvattn.create("seaformer", channels=16, key_dim=4, num_heads=3, attn_ratio=2).double().eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.copy_(
                    torch.randn(mod.running_mean.shape, generator=g, dtype=torch.float64) * 0.2
                )
                mod.running_var.copy_(
                    torch.rand(mod.running_var.shape, generator=g, dtype=torch.float64) + 0.5
                )
                mod.weight.copy_(torch.rand(mod.weight.shape, generator=g, dtype=torch.float64) + 0.5)
    for size in [(5, 9), (21, 3)]:  # shorter and longer than the 16-entry embeddings
        x = torch.randn(2, 16, *size, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x, 3, 4))


def test_axial_branch_gives_a_global_receptive_field():
    """A change at one corner reaches the opposite corner, far outside the 3x3 detail branch."""
    torch.manual_seed(0)
    m = cvattn.create("seaformer", channels=16, key_dim=4, num_heads=2).eval()
    x = torch.randn(1, 16, 9, 11)
    y = x.clone()
    y[..., 0, 0] += 1.0
    with torch.no_grad():
        assert (m(x) - m(y))[..., -1, -1].abs().max() > 1e-6


def test_zero_init_starts_with_a_constant_gate():
    m = cvattn.create("seaformer", channels=16, key_dim=4, num_heads=2, zero_init=True).eval()
    for block in (m.encode_row, m.encode_col, m.proj):
        assert torch.count_nonzero(block.bn.weight) == 0


def test_bad_arguments_raise_value_error():
    for kwargs in [{"key_dim": 0}, {"num_heads": 0}, {"attn_ratio": 0.01}]:
        with pytest.raises(ValueError):
            cvattn.create("seaformer", channels=16, **kwargs)
