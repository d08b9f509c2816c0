import pytest
import torch
import torch.nn.functional as F

import cvattn


def _conv_count(cin, cout, k, stride, groups, branches, se=False):
    n = branches * (k * k * cin // groups * cout + 2 * cout)
    if k > 1:
        n += cin // groups * cout + 2 * cout  # 1x1 scale branch
    if cin == cout and stride == 1:
        n += 2 * cin  # BN skip
    if se:
        hidden = max(1, int(cout * 0.0625))
        n += 2 * cout * hidden + hidden + cout
    return n


@pytest.mark.parametrize(
    ("cin", "cout", "k", "stride", "groups", "branches", "se"),
    [(16, 16, 3, 1, 16, 4, False), (16, 32, 3, 2, 1, 2, True), (16, 16, 1, 1, 1, 3, False)],
)
def test_conv_parameter_count_closed_form(cin, cout, k, stride, groups, branches, se):
    m = cvattn.create(
        "mobileone-conv",
        in_channels=cin,
        out_channels=cout,
        kernel_size=k,
        stride=stride,
        groups=groups,
        num_conv_branches=branches,
        use_se=se,
    )
    assert sum(p.numel() for p in m.parameters()) == _conv_count(cin, cout, k, stride, groups, branches, se)
    m.switch_to_deploy()
    plain = k * k * cin // groups * cout + cout
    assert sum(p.numel() for p in m.parameters()) == plain + _conv_count(0, cout, 1, 2, 1, 0, se)


def test_block_parameter_count_closed_form():
    for cin, cout, stride, k in [(16, 32, 1, 4), (16, 16, 1, 1), (16, 16, 2, 2)]:
        m = cvattn.create("mobileone", in_channels=cin, out_channels=cout, stride=stride, num_conv_branches=k)
        expected = _conv_count(cin, cin, 3, stride, cin, k) + _conv_count(cin, cout, 1, 1, 1, k)
        assert sum(p.numel() for p in m.parameters()) == expected


def _randomise_bn(m):
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(-1.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)


def _bn(z, bn):
    s = (1, -1, 1, 1)
    scale = bn.weight.view(s) / (bn.running_var.view(s) + bn.eps).sqrt()
    return (z - bn.running_mean.view(s)) * scale + bn.bias.view(s)


def _reference_conv(m, x, k, stride, groups, se):
    y = sum(_bn(F.conv2d(x, b.conv.weight, None, stride, k // 2, 1, groups), b.bn) for b in m.conv_branches)
    if k > 1:
        y = y + _bn(F.conv2d(x, m.scale_branch.conv.weight, None, stride, 0, 1, groups), m.scale_branch.bn)
    if m.skip_bn is not None:
        y = y + _bn(x, m.skip_bn)
    if se:
        z = y.mean((2, 3))
        s = torch.sigmoid(
            F.linear(F.relu(F.linear(z, m.se.fc1.weight, m.se.fc1.bias)), m.se.fc2.weight, m.se.fc2.bias)
        )
        y = y * s[:, :, None, None]
    return y.relu()


@pytest.mark.parametrize(
    ("cin", "cout", "k", "stride", "groups", "branches", "se"),
    [
        (8, 8, 3, 1, 8, 4, False),
        (8, 32, 3, 2, 2, 2, True),
        (8, 8, 1, 1, 1, 3, False),
        (8, 8, 5, 1, 4, 1, False),
    ],
)
def test_conv_branches_and_fused_form_match_reference(cin, cout, k, stride, groups, branches, se):
    m = cvattn.create(
        "mobileone-conv",
        in_channels=cin,
        out_channels=cout,
        kernel_size=k,
        stride=stride,
        groups=groups,
        num_conv_branches=branches,
        use_se=se,
    ).double()
    _randomise_bn(m)
    m.eval()
    x = torch.randn(2, cin, 11, 14, dtype=torch.float64)
    ref = _reference_conv(m, x, k, stride, groups, se)
    with torch.no_grad():
        torch.testing.assert_close(m(x), ref)
        if not se:
            torch.testing.assert_close(m.fuse()(x).relu(), ref)
        m.switch_to_deploy()
        torch.testing.assert_close(m(x), ref)


def test_block_is_depthwise_then_pointwise_and_fuses_exactly():
    m = cvattn.create("mobileone", in_channels=8, out_channels=16, stride=2, num_conv_branches=3).double()
    _randomise_bn(m)
    m.eval()
    x = torch.randn(2, 8, 9, 12, dtype=torch.float64)
    with torch.no_grad():
        ref = _reference_conv(m.pointwise, _reference_conv(m.depthwise, x, 3, 2, 8, False), 1, 1, 1, False)
        torch.testing.assert_close(m(x), ref)
        dw, pw = m.fuse()
        assert (dw.groups, dw.kernel_size, pw.kernel_size) == (8, (3, 3), (1, 1))
        torch.testing.assert_close(pw(dw(x).relu()).relu(), ref)
        m.switch_to_deploy()
        assert m.deploy
        torch.testing.assert_close(m(x), ref)
    deployed = cvattn.create("mobileone", in_channels=8, out_channels=16, stride=2, deploy=True).double()
    deployed.load_state_dict(m.state_dict())
    torch.testing.assert_close(deployed.eval()(x), ref)


def test_bad_arguments_refused():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("mobileone-conv", in_channels=8, out_channels=8, kernel_size=2)
    with pytest.raises(ValueError, match="num_conv_branches"):
        cvattn.create("mobileone-conv", in_channels=8, out_channels=8, num_conv_branches=0)
