import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, k, g, mid):
    n = k * k * cin // g * cout + 2 * cout  # KxK-BN
    if g < cout:
        n += 2 * (cin // g * cout + 2 * cout)  # 1x1-BN and the 1x1-BN before pooling
    n += 2 * cout  # BN after pooling
    n += cin // g * mid + 2 * mid + k * k * mid // g * cout + 2 * cout  # 1x1-BN-KxK-BN
    return n


@pytest.mark.parametrize(
    ("cin", "cout", "k", "groups", "mid", "expected_mid"),
    [(16, 16, 3, 1, None, 16), (16, 32, 5, 4, 24, 24), (8, 8, 3, 8, None, 16)],
)
def test_parameter_count_closed_form(cin, cout, k, groups, mid, expected_mid):
    m = cvattn.create(
        "dbb", in_channels=cin, out_channels=cout, kernel_size=k, groups=groups, internal_channels=mid
    )
    assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, k, groups, expected_mid)
    m.switch_to_deploy()
    assert sum(p.numel() for p in m.parameters()) == k * k * cin // groups * cout + cout


def _randomise(m):
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(-1.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
    m.kxk_conv1.weight.data.normal_(0, 0.3)  # move the identity-based 1x1 away from the identity


def _bn(z, bn):
    s = (1, -1, 1, 1)
    scale = bn.weight.view(s) / (bn.running_var.view(s) + bn.eps).sqrt()
    return (z - bn.running_mean.view(s)) * scale + bn.bias.view(s)


def _reference(m, x, k, s, g):
    """Eval-mode DBB with the padding done on the input, before the 1x1 convs (the paper's Fig. 2 reading)."""
    p = k // 2
    xp = F.pad(x, (p, p, p, p))
    y = _bn(F.conv2d(xp, m.origin_conv.weight, None, s, 0, 1, g), m.origin_bn)
    if g < m.out_channels:
        y = y + _bn(F.conv2d(x, m.point_conv.weight, None, s, 0, 1, g), m.point_bn)
        z = _bn(F.conv2d(xp, m.avg_conv.weight, None, 1, 0, 1, g), m.avg_pad_bn)
        y = y + _bn(F.avg_pool2d(z, k, s), m.avg_bn)
    else:
        y = y + _bn(F.avg_pool2d(xp, k, s), m.avg_bn)
    w1 = m.kxk_conv1.weight
    if w1.shape[0] == w1.shape[1] * g:  # identity-based: the identity plus the learnt residual
        eye = torch.eye(w1.shape[1], dtype=x.dtype).repeat(g, 1)[:, :, None, None]
        w1 = w1 + eye
    z = _bn(F.conv2d(xp, w1, None, 1, 0, 1, g), m.kxk_bn1)
    return y + _bn(F.conv2d(z, m.kxk_conv2.weight, None, s, 0, 1, g), m.kxk_bn2)


@pytest.mark.parametrize(
    ("cin", "cout", "k", "stride", "groups", "mid"),
    [(8, 8, 3, 1, 1, None), (8, 12, 5, 2, 2, 16), (8, 8, 3, 1, 8, None), (8, 8, 3, 2, 2, None)],
)
def test_branches_and_fused_form_match_reference(cin, cout, k, stride, groups, mid):
    m = cvattn.create(
        "dbb",
        in_channels=cin,
        out_channels=cout,
        kernel_size=k,
        stride=stride,
        groups=groups,
        internal_channels=mid,
    ).double()
    _randomise(m)
    m.eval()
    x = torch.randn(2, cin, 11, 14, dtype=torch.float64)
    ref = _reference(m, x, k, stride, groups)
    with torch.no_grad():
        out = m(x)
        torch.testing.assert_close(out, ref)
        torch.testing.assert_close(m.fuse()(x), ref)
        m.switch_to_deploy()
        assert m.deploy and [n for n, _ in m.named_children()] == ["act", "fused_conv"]
        torch.testing.assert_close(m(x), ref)


def test_identity_based_1x1_starts_as_identity():
    m = cvattn.create("dbb", in_channels=8, out_channels=8).eval()
    x = torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(m.kxk_conv1(x), x)


def test_deploy_constructor_loads_fused_state():
    m = cvattn.create("dbb", in_channels=8, out_channels=8).eval()
    _randomise(m)
    x = torch.randn(1, 8, 9, 7)
    y = m(x)
    m.switch_to_deploy()
    deployed = cvattn.create("dbb", in_channels=8, out_channels=8, deploy=True).eval()
    deployed.load_state_dict(m.state_dict())
    torch.testing.assert_close(deployed(x), y, atol=1e-5, rtol=1e-4)


def test_bad_arguments_refused():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("dbb", in_channels=8, out_channels=8, kernel_size=4)
    with pytest.raises(ValueError, match="depth-wise"):
        cvattn.create("dbb", in_channels=16, out_channels=8, groups=8)
