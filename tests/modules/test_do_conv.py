import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, kh, kw, g=1, d_mul=None, bias=True):
    taps = kh * kw
    d_mul = taps if d_mul is None or taps == 1 else d_mul
    w = cout * (cin // g) * d_mul
    d = cin * taps * d_mul if taps > 1 else 0
    return w + d + (cout if bias else 0)


@pytest.mark.parametrize(
    "cin, cout, k, g, d_mul, bias", [(32, 64, 3, 1, None, True), (16, 24, (3, 5), 4, 20, False)]
)
def test_parameter_count_closed_form(cin, cout, k, g, d_mul, bias):
    kh, kw = (k, k) if isinstance(k, int) else k
    m = cvattn.create(
        "do-conv", in_channels=cin, out_channels=cout, kernel_size=k, groups=g, D_mul=d_mul, bias=bias
    )
    assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, kh, kw, g, d_mul, bias)
    m.switch_to_deploy()
    plain = cout * (cin // g) * kh * kw + (cout if bias else 0)
    assert sum(p.numel() for p in m.parameters()) == plain
    assert [type(c).__name__ for c in m.children()] == ["Conv2d"]


def test_one_by_one_kernel_has_no_depthwise_part():
    m = cvattn.create("do-conv", in_channels=8, out_channels=4, kernel_size=1, padding=0, D_mul=7)
    assert m.D_mul == 1 and not hasattr(m, "D")
    assert sum(p.numel() for p in m.parameters()) == 8 * 4 + 4


def test_initial_kernel_is_w_through_tiled_identities():
    # D = 0 + D_diag: with D_mul = 2 M N + 1 the kernel is W[..., :MN] + W[..., MN:2MN] (last column unused)
    m = cvattn.create("do-conv", in_channels=6, out_channels=5, kernel_size=(3, 2), D_mul=13).double()
    w = m.W.detach()
    expected = (w[:, :, 0:6] + w[:, :, 6:12]).reshape(5, 6, 3, 2)
    torch.testing.assert_close(m.composed_kernel(), expected)


def test_feature_composition_equals_kernel_composition():
    """Groups 1: applying D to the input patches and then W (paper's feature composition) is the layer."""
    torch.manual_seed(0)
    cin, cout, d_mul = 4, 6, 11
    m = cvattn.create(
        "do-conv", in_channels=cin, out_channels=cout, kernel_size=3, padding=1, stride=2, D_mul=d_mul
    ).double()
    with torch.no_grad():
        m.D.normal_()
    x = torch.randn(2, cin, 9, 7, dtype=torch.float64)
    patches = F.unfold(x, 3, padding=1, stride=2).view(2, cin, 9, -1)  # (N, C_in, M*N, L)
    D = m.D + m.d_diag  # (C_in, M*N, D_mul)
    p = torch.einsum("ims,nimL->nisL", D, patches)  # depthwise: (N, C_in, D_mul, L)
    y = torch.einsum("ois,nisL->noL", m.W, p) + m.bias.view(1, -1, 1)
    torch.testing.assert_close(m(x), y.view(2, cout, 5, 4))


@pytest.mark.parametrize("groups, cout", [(1, 6), (2, 6), (4, 4), (4, 8)])
def test_composed_kernel_matches_the_official_index_rule(groups, cout):
    cin = 4
    m = cvattn.create(
        "do-conv", in_channels=cin, out_channels=cout, kernel_size=3, padding=1, groups=groups, D_mul=10
    ).double()
    with torch.no_grad():
        m.D.normal_()
    D = (m.D + m.d_diag).detach()
    W = m.W.detach()
    per_group = cin // groups
    expected = torch.zeros(cout, per_group, 9, dtype=torch.float64)
    for o in range(cout):
        for i in range(per_group):
            c = (o % groups) * per_group + i  # channel whose D the official reshape pairs with (o, i)
            expected[o, i] = D[c] @ W[o, i]
    torch.testing.assert_close(m.composed_kernel(), expected.view(cout, per_group, 3, 3))
    x = torch.randn(1, cin, 8, 8, dtype=torch.float64)
    torch.testing.assert_close(
        m(x), F.conv2d(x, expected.view(cout, per_group, 3, 3), m.bias, padding=1, groups=groups)
    )


# (k, stride, padding, dilation, groups, bias, padding_mode, D_mul)
CONFIGS = [
    (3, 1, 1, 1, 1, True, "zeros", None),
    (3, 2, 0, 1, 2, False, "zeros", 12),
    ((3, 5), 1, (1, 2), 1, 1, True, "zeros", None),
    (5, 1, 4, 2, 4, True, "zeros", 30),
    (3, 1, (1, 2), 1, 1, True, "reflect", None),
    (3, 2, 1, 1, 2, False, "replicate", None),
    (3, 1, 2, 2, 1, True, "circular", 10),
    (1, 1, 0, 1, 1, True, "zeros", None),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_fused_conv_equals_training_form(config):
    k, s, p, d, g, bias, mode, d_mul = config
    m = cvattn.create(
        "do-conv",
        in_channels=8,
        out_channels=12,
        kernel_size=k,
        stride=s,
        padding=p,
        dilation=d,
        groups=g,
        bias=bias,
        padding_mode=mode,
        D_mul=d_mul,
    ).double()
    if hasattr(m, "D"):
        with torch.no_grad():
            m.D.normal_(std=0.3)  # a trained-looking D, not the identity it starts from
    m.eval()
    x = torch.randn(2, 8, 13, 17, dtype=torch.float64)
    with torch.no_grad():
        out = m(x)
        plain = torch.nn.Conv2d(8, 12, k, s, p, d, g, bias=bias, padding_mode=mode).double()
        assert out.shape == plain(x).shape
        fused = m.fuse()
        assert isinstance(fused, torch.nn.Conv2d)
        assert (fused(x) - out).abs().max() <= 1e-5
        m.switch_to_deploy()
        assert m.deploy and (m(x) - out).abs().max() <= 1e-5
        assert sum(q.numel() for q in m.parameters()) == sum(q.numel() for q in plain.parameters())


def test_deploy_constructor_and_state_dict_round_trip():
    m = cvattn.create("do-conv", in_channels=8, out_channels=8, kernel_size=3, padding=1).eval()
    with torch.no_grad():
        m.D.normal_(std=0.3)
    x = torch.randn(1, 8, 9, 9)
    y = m(x)
    m.switch_to_deploy()
    deployed = cvattn.create(
        "do-conv", in_channels=8, out_channels=8, kernel_size=3, padding=1, deploy=True
    ).eval()
    deployed.load_state_dict(m.state_dict())
    torch.testing.assert_close(deployed(x), y, atol=1e-5, rtol=1e-4)


def test_small_depth_multiplier_refused():
    with pytest.raises(ValueError, match="D_mul"):
        cvattn.create("do-conv", in_channels=8, out_channels=8, kernel_size=3, D_mul=8)
