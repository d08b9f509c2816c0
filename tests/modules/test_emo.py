import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, cout, exp, k, attn=True, qkv_bias=False):
    hidden = int(c * exp)
    n = 2 * c  # input BN
    if attn:
        n += c * 2 * c + (2 * c if qkv_bias else 0)
    n += c * hidden + (hidden if qkv_bias else 0)  # value projection
    n += hidden * k * k + 2 * hidden  # depthwise conv + BN
    return n + hidden * cout  # projection, no bias


@pytest.mark.parametrize(
    ("c", "cout", "exp", "k", "attn", "bias"),
    [(64, 64, 1.0, 3, True, False), (32, 48, 4.0, 5, True, True), (16, 32, 2.0, 3, False, True)],
)
def test_parameter_count_closed_form(c, cout, exp, k, attn, bias):
    m = cvattn.create(
        "emo",
        in_channels=c,
        out_channels=cout,
        exp_ratio=exp,
        kernel_size=k,
        attn=attn,
        qkv_bias=bias,
        dim_head=16,
    )
    assert sum(p.numel() for p in m.parameters()) == _count(c, cout, exp, k, attn, bias)


def _randomise(m):
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)


def _reference(m, x, window, dim_head, attn_pre):
    """Loop over the windows: window (a, b) holds the pixels of rows a::n1 and columns b::n2 of the padded map."""
    bn = m.norm
    z = F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)
    n, c, h, w = z.shape
    hp, wp = -(-h // window) * window, -(-w // window) * window
    zp = F.pad(z, (0, wp - w, 0, hp - h))
    n1, n2 = hp // window, wp // window
    qk = F.conv2d(zp, m.qk.weight, m.qk.bias)
    val = zp if attn_pre else torch.relu(F.conv2d(zp, m.v[0].weight, m.v[0].bias))
    out = torch.zeros(n, val.shape[1], hp, wp, dtype=x.dtype)
    heads = c // dim_head
    for a in range(n1):
        for b in range(n2):
            q = qk[:, :c, a::n1, b::n2].flatten(2)  # (N, C, M*M)
            k = qk[:, c:, a::n1, b::n2].flatten(2)
            v = val[:, :, a::n1, b::n2].flatten(2)
            for i in range(heads):
                qi, ki = q[:, i * dim_head : (i + 1) * dim_head], k[:, i * dim_head : (i + 1) * dim_head]
                dv = v.shape[1] // heads
                vi = v[:, i * dv : (i + 1) * dv]
                attn = torch.softmax(qi.transpose(1, 2) @ ki / dim_head**0.5, dim=-1)  # (N, T, T)
                out[:, i * dv : (i + 1) * dv, a::n1, b::n2] = (vi @ attn.transpose(1, 2)).view(
                    n, dv, window, window
                )
    y = out[:, :, :h, :w]
    if attn_pre:
        y = torch.relu(F.conv2d(y, m.v[0].weight, m.v[0].bias))
    bl = m.conv_local.bn
    local = F.conv2d(y, m.conv_local.conv.weight, padding=1, groups=y.shape[1])
    local = F.silu(
        F.batch_norm(local, bl.running_mean, bl.running_var, bl.weight, bl.bias, False, 0.0, bl.eps)
    )
    return x + F.conv2d(y + local, m.proj.weight)


@pytest.mark.parametrize(("attn_pre", "size"), [(False, (8, 8)), (False, (9, 11)), (True, (7, 10))])
def test_window_attention_matches_loop_reference(attn_pre, size):
    kw = dict(
        in_channels=16,
        out_channels=16,
        exp_ratio=2.0,
        dim_head=8,
        window_size=4,
        attn_pre=attn_pre,
        qkv_bias=True,
    )
    if attn_pre:
        kw["exp_ratio"] = 1.0  # the value projection after attention keeps the C channels when exp_ratio is 1
    m = cvattn.create("emo", **kw).double().eval()
    _randomise(m)
    x = torch.randn(2, 16, *size, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x, 4, 8, attn_pre))


def test_windows_are_dilated_grids_not_tiles():
    # a change at one pixel reaches, through attention, only the pixels of its own grid window
    m = (
        cvattn.create("emo", in_channels=8, out_channels=8, dim_head=8, window_size=2, has_skip=False)
        .double()
        .eval()
    )
    with torch.no_grad():
        m.conv_local.conv.weight.zero_()
        m.conv_local.conv.weight[:, :, 1, 1] = (
            1.0  # depthwise conv = identity (up to BN + SiLU), no spatial mixing
        )
    x = torch.randn(1, 8, 4, 4, dtype=torch.float64)
    x2 = x.clone()
    x2[0, :, 0, 0] += 1.0
    changed = (m(x2) - m(x)).abs().sum(1)[0] > 1e-12
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[0::2, 0::2] = True  # rows 0, 2 and columns 0, 2: the window of pixel (0, 0) when n1 = n2 = 2
    assert torch.equal(changed, expected)


def test_attention_free_block_is_an_inverted_residual():
    m = cvattn.create("emo", in_channels=8, out_channels=16, exp_ratio=2.0, attn=False, stride=2).eval()
    assert not hasattr(m, "qk") and not m.has_skip
    assert m(torch.randn(1, 8, 10, 9)).shape == (1, 16, 5, 5)
