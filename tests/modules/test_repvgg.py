import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, k, groups, identity):
    per_tap = cin // groups * cout
    return k * k * per_tap + per_tap + 2 * 2 * cout + (2 * cin if identity else 0)


@pytest.mark.parametrize(
    ("cin", "cout", "k", "stride", "groups"), [(16, 16, 3, 1, 1), (16, 32, 3, 2, 4), (8, 8, 5, 1, 2)]
)
def test_parameter_count_closed_form(cin, cout, k, stride, groups):
    m = cvattn.create(
        "repvgg", in_channels=cin, out_channels=cout, kernel_size=k, stride=stride, groups=groups
    )
    identity = cin == cout and stride == 1
    assert (m.identity_bn is not None) == identity
    assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, k, groups, identity)
    m.switch_to_deploy()
    assert sum(p.numel() for p in m.parameters()) == k * k * cin // groups * cout + cout


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


@pytest.mark.parametrize(
    ("cin", "cout", "k", "stride", "groups"), [(8, 8, 3, 1, 1), (8, 12, 3, 2, 2), (8, 8, 5, 1, 4)]
)
def test_branches_and_fused_form_match_reference(cin, cout, k, stride, groups):
    m = cvattn.create(
        "repvgg", in_channels=cin, out_channels=cout, kernel_size=k, stride=stride, groups=groups
    )
    m = m.double()
    _randomise_bn(m)
    m.eval()
    x = torch.randn(2, cin, 11, 14, dtype=torch.float64)
    ref = _bn(F.conv2d(x, m.dense_conv.weight, None, stride, k // 2, 1, groups), m.dense_bn)
    ref = ref + _bn(F.conv2d(x, m.point_conv.weight, None, stride, 0, 1, groups), m.point_bn)
    if m.identity_bn is not None:
        ref = ref + _bn(x, m.identity_bn)
    ref = ref.relu()
    with torch.no_grad():
        out = m(x)
        torch.testing.assert_close(out, ref)
        torch.testing.assert_close(m.fuse()(x).relu(), ref)
        m.switch_to_deploy()
        assert m.deploy and [type(c).__name__ for c in m.children()] == ["ReLU", "Conv2d"]
        torch.testing.assert_close(m(x), ref)


def test_deploy_constructor_loads_fused_state():
    m = cvattn.create("repvgg", in_channels=8, out_channels=8).eval()
    _randomise_bn(m)
    x = torch.randn(1, 8, 9, 7)
    y = m(x)
    m.switch_to_deploy()
    deployed = cvattn.create("repvgg", in_channels=8, out_channels=8, deploy=True).eval()
    deployed.load_state_dict(m.state_dict())
    torch.testing.assert_close(deployed(x), y, atol=1e-5, rtol=1e-4)


def test_fuse_helpers():
    from cvattn.blocks.fuse import fuse_identity_bn, pad_kernel

    bn = torch.nn.BatchNorm2d(6).double().eval()
    _randomise_bn(bn)
    x = torch.randn(2, 6, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(fuse_identity_bn(bn, 3, groups=3)(x), _bn(x, bn))
    w = torch.randn(4, 6, 1, 3, dtype=torch.float64)
    torch.testing.assert_close(F.conv2d(x, pad_kernel(w, 5), padding=2), F.conv2d(x, w, padding=(0, 1)))
    with pytest.raises(ValueError, match="expected"):
        pad_kernel(w, 4)


def test_bad_arguments_refused():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("repvgg", in_channels=8, out_channels=8, kernel_size=4)
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("repvgg", in_channels=8, out_channels=8, groups=3)
