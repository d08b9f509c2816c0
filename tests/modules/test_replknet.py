import pytest
import torch
import torch.nn.functional as F

import cvattn


def _lk_count(cin, cout, k, small, groups):
    n = k * k * cin // groups * cout + 2 * cout
    if small is not None:
        n += small * small * cin // groups * cout + 2 * cout
    return n


@pytest.mark.parametrize(
    ("cin", "cout", "k", "small", "groups"), [(16, 16, 31, 5, 16), (16, 32, 13, 3, 4), (8, 8, 7, None, 8)]
)
def test_parameter_count_closed_form(cin, cout, k, small, groups):
    m = cvattn.create(
        "replknet", in_channels=cin, out_channels=cout, kernel_size=k, small_kernel=small, groups=groups
    )
    assert sum(p.numel() for p in m.parameters()) == _lk_count(cin, cout, k, small, groups)
    m.switch_to_deploy()
    assert sum(p.numel() for p in m.parameters()) == k * k * cin // groups * cout + cout


def test_block_parameter_count_closed_form():
    for c, dw, k, small in [(16, None, 31, 5), (16, 24, 13, 3)]:
        m = cvattn.create("replknet-block", channels=c, dw_channels=dw, kernel_size=k, small_kernel=small)
        d = c if dw is None else dw
        expected = 2 * c + (c * d + 2 * d) + _lk_count(d, d, k, small, d) + (d * c + 2 * c)
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


def _reference_lk(m, x, k, small, stride, groups):
    y = _bn(F.conv2d(x, m.large.conv.weight, None, stride, k // 2, 1, groups), m.large.bn)
    if small is not None:
        y = y + _bn(F.conv2d(x, m.small.conv.weight, None, stride, small // 2, 1, groups), m.small.bn)
    return y


@pytest.mark.parametrize(
    ("cin", "cout", "k", "small", "stride", "groups"),
    [(8, 8, 31, 5, 1, 8), (8, 12, 13, 3, 2, 4), (8, 8, 7, None, 1, 8), (8, 8, 9, 9, 1, 1)],
)
def test_branches_and_fused_form_match_reference(cin, cout, k, small, stride, groups):
    m = cvattn.create(
        "replknet",
        in_channels=cin,
        out_channels=cout,
        kernel_size=k,
        small_kernel=small,
        stride=stride,
        groups=groups,
    ).double()
    _randomise_bn(m)
    m.eval()
    x = torch.randn(2, cin, 11, 18, dtype=torch.float64)
    ref = _reference_lk(m, x, k, small, stride, groups)
    with torch.no_grad():
        torch.testing.assert_close(m(x), ref)
        torch.testing.assert_close(m.fuse()(x), ref)
        m.switch_to_deploy()
        assert m.deploy and [n for n, _ in m.named_children()] == ["fused_conv"]
        torch.testing.assert_close(m(x), ref)


def test_block_matches_reference_and_fuses_exactly():
    m = cvattn.create("replknet-block", channels=8, dw_channels=16, kernel_size=13, small_kernel=3).double()
    _randomise_bn(m)
    m.eval()
    x = torch.randn(2, 8, 10, 7, dtype=torch.float64)
    with torch.no_grad():
        y = _bn(F.conv2d(_bn(x, m.pre_bn), m.pw1.conv.weight), m.pw1.bn).relu()
        y = _reference_lk(m.large_kernel, y, 13, 3, 1, 16).relu()
        ref = x + _bn(F.conv2d(y, m.pw2.conv.weight), m.pw2.bn)
        torch.testing.assert_close(m(x), ref)
        m.switch_to_deploy()
        torch.testing.assert_close(m(x), ref)
    deployed = cvattn.create(
        "replknet-block", channels=8, dw_channels=16, kernel_size=13, small_kernel=3, deploy=True
    )
    deployed.double().load_state_dict(m.state_dict())
    torch.testing.assert_close(deployed.eval()(x), ref)


def test_drop_path_drops_whole_residual_branches_in_training():
    torch.manual_seed(0)
    m = cvattn.create("replknet-block", channels=8, kernel_size=7, small_kernel=3, drop_path=0.5).train()
    x = torch.randn(64, 8, 5, 5)
    with torch.no_grad():
        kept = (m(x) - x).flatten(1).abs().amax(1) > 0
    assert 0 < kept.sum() < 64


def test_bad_arguments_refused():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("replknet", in_channels=8, out_channels=8, kernel_size=30)
    with pytest.raises(ValueError, match="small_kernel <= kernel_size"):
        cvattn.create("replknet", in_channels=8, out_channels=8, kernel_size=5, small_kernel=7)
