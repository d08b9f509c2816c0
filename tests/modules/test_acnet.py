import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, k, groups=1, bias=False):
    per_tap = cin // groups * cout
    return k * k * per_tap + 2 * k * per_tap + 3 * 2 * cout + (cout if bias else 0)


def test_parameter_count_closed_form():
    for cin, cout, k, g, bias in [(32, 32, 3, 1, False), (16, 48, 5, 4, True)]:
        m = cvattn.create("acnet", in_channels=cin, out_channels=cout, kernel_size=k, groups=g, bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, k, g, bias)
        m.switch_to_deploy()
        assert sum(p.numel() for p in m.parameters()) == k * k * cin // g * cout + cout  # a plain conv
        assert [type(c).__name__ for c in m.children()] == ["Conv2d"]


def _randomise_bn(m):
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(-1.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)


def _bn(z, bn):
    s = (1, -1, 1, 1)
    return (z - bn.running_mean.view(s)) / (bn.running_var.view(s) + bn.eps).sqrt() * bn.weight.view(
        s
    ) + bn.bias.view(s)


# (k, stride, padding, dilation, groups, bias, padding_mode); padding < dilation * (k // 2) crops
CONFIGS = [
    (3, 1, None, 1, 1, False, "zeros"),
    (3, 2, 1, 1, 2, True, "zeros"),
    (5, 1, 1, 1, 1, False, "zeros"),
    (3, 1, 0, 1, 1, False, "zeros"),
    (5, 2, 4, 1, 1, False, "zeros"),
    (3, 1, None, 2, 1, False, "zeros"),
    (3, 2, 1, 2, 4, False, "zeros"),
    (3, 1, None, 1, 1, False, "reflect"),
    (5, 1, None, 1, 2, True, "replicate"),
    (3, 1, None, 1, 1, False, "circular"),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_training_form_and_fused_form_match_reference(config):
    k, s, p, d, g, bias, mode = config
    m = cvattn.create(
        "acnet",
        in_channels=8,
        out_channels=12,
        kernel_size=k,
        stride=s,
        padding=p,
        dilation=d,
        groups=g,
        bias=bias,
        padding_mode=mode,
    ).double()
    _randomise_bn(m)
    m.eval()
    x = torch.randn(2, 8, 13, 17, dtype=torch.float64)
    pad = d * (k // 2) if p is None else p
    # reference: each asymmetric kernel embedded into a zero K x K kernel, on one padded input
    xp = F.pad(x, (pad,) * 4, mode="constant" if mode == "zeros" else mode)
    w_h = torch.zeros_like(m.square_conv.weight)
    w_h[:, :, k // 2, :] = m.hor_conv.weight[:, :, 0, :]
    w_v = torch.zeros_like(m.square_conv.weight)
    w_v[:, :, :, k // 2] = m.ver_conv.weight[:, :, :, 0]

    def conv(w, b=None):
        return F.conv2d(xp, w, b, stride=s, dilation=d, groups=g)

    ref = (
        _bn(conv(m.square_conv.weight, m.square_conv.bias), m.square_bn)
        + _bn(conv(w_h), m.hor_bn)
        + _bn(conv(w_v), m.ver_bn)
    )
    with torch.no_grad():
        out = m(x)
        assert out.shape == ref.shape
        torch.testing.assert_close(out, ref)
        fused = m.fuse()
        assert (fused(x) - out).abs().max() <= 1e-5
        m.switch_to_deploy()
        assert m.deploy and (m(x) - out).abs().max() <= 1e-5


def test_deploy_constructor_and_state_dict_round_trip():
    m = cvattn.create("acnet", in_channels=8, out_channels=8).eval()
    _randomise_bn(m)
    x = torch.randn(1, 8, 9, 9)
    y = m(x)
    m.switch_to_deploy()
    deployed = cvattn.create("acnet", in_channels=8, out_channels=8, deploy=True).eval()
    deployed.load_state_dict(m.state_dict())
    torch.testing.assert_close(deployed(x), y, atol=1e-5, rtol=1e-4)


def test_even_kernel_refused():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("acnet", in_channels=8, out_channels=8, kernel_size=4)
