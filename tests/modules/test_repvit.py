import pytest
import torch
import torch.nn.functional as F

import cvattn


def _se_hidden(c):
    return max(8, int(c / 4 + 4) // 8 * 8)  # timm make_divisible(c / 4, 8, round_limit=0)


def _count(cin, cout, k, stride, se):
    n = k * k * cin + 2 * cin  # dw conv-BN
    if stride == 1:
        n += 2 * cin + 2 * cin  # dw 1x1 conv with bias, BN
    else:
        n += cin * cout + 2 * cout  # 1x1 conv-BN
    if se:
        h = _se_hidden(cin)
        n += 2 * cin * h + h + cin
    hidden = 2 * cout
    return n + cout * hidden + 2 * hidden + hidden * cout + 2 * cout


@pytest.mark.parametrize(
    ("cin", "cout", "k", "stride", "se"), [(16, 16, 3, 1, True), (16, 16, 3, 1, False), (16, 32, 5, 2, True)]
)
def test_parameter_count_closed_form(cin, cout, k, stride, se):
    m = cvattn.create("repvit", in_channels=cin, out_channels=cout, kernel_size=k, stride=stride, use_se=se)
    assert sum(p.numel() for p in m.parameters()) == _count(cin, cout, k, stride, se)
    m.switch_to_deploy()
    plain = k * k * cin + cin + (cin * cout + cout if stride == 2 else 0) + 2 * (2 * cout * cout) + 3 * cout
    se_params = 2 * cin * _se_hidden(cin) + _se_hidden(cin) + cin if se else 0
    assert sum(p.numel() for p in m.parameters()) == plain + se_params


def _randomise(m):
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


def _reference(m, x, k, stride, se):
    c = x.shape[1]
    y = _bn(F.conv2d(x, m.token_conv.conv.weight, None, stride, k // 2, 1, c), m.token_conv.bn)
    if stride == 1:
        y = _bn(y + F.conv2d(x, m.token_conv1.weight, m.token_conv1.bias, groups=c) + x, m.token_bn)
    if se:
        z = y.mean((2, 3))
        h = F.relu(F.linear(z, m.se.fc1.weight, m.se.fc1.bias))
        y = y * torch.sigmoid(F.linear(h, m.se.fc2.weight, m.se.fc2.bias))[:, :, None, None]
    if stride == 2:
        y = _bn(F.conv2d(y, m.token_pw.conv.weight), m.token_pw.bn)
    h = F.gelu(_bn(F.conv2d(y, m.mix_pw1.conv.weight), m.mix_pw1.bn))
    return y + _bn(F.conv2d(h, m.mix_pw2.conv.weight), m.mix_pw2.bn)


@pytest.mark.parametrize(
    ("cin", "cout", "k", "stride", "se"), [(8, 8, 3, 1, True), (8, 8, 5, 1, False), (8, 16, 3, 2, True)]
)
def test_block_and_fused_form_match_reference(cin, cout, k, stride, se):
    m = cvattn.create(
        "repvit", in_channels=cin, out_channels=cout, kernel_size=k, stride=stride, use_se=se
    ).double()
    _randomise(m)
    m.eval()
    x = torch.randn(2, cin, 11, 14, dtype=torch.float64)
    ref = _reference(m, x, k, stride, se)
    with torch.no_grad():
        torch.testing.assert_close(m(x), ref)
        convs = m.fuse()
        assert convs[0].groups == cin and convs[0].kernel_size == (k, k)
        y = convs[0](x)
        if se:
            y = m.se(y)
        if stride == 2:
            y = convs[1](y)
        torch.testing.assert_close(y + convs[-1](F.gelu(convs[-2](y))), ref)
        m.switch_to_deploy()
        assert m.deploy and not any(isinstance(c, torch.nn.BatchNorm2d) for c in m.modules())
        torch.testing.assert_close(m(x), ref)
    deployed = cvattn.create(
        "repvit", in_channels=cin, out_channels=cout, kernel_size=k, stride=stride, use_se=se, deploy=True
    )
    deployed.double().load_state_dict(m.state_dict())
    torch.testing.assert_close(deployed.eval()(x), ref)


def test_zero_init_starts_the_channel_mixer_at_zero():
    m = cvattn.create("repvit", in_channels=8, out_channels=8, use_se=False, zero_init=True).eval()
    x = torch.randn(1, 8, 5, 5)
    with torch.no_grad():
        y = m.token_bn(m.token_conv(x) + m.token_conv1(x) + x)
        torch.testing.assert_close(m(x), y)


def test_bad_arguments_refused():
    with pytest.raises(ValueError, match="in_channels == out_channels"):
        cvattn.create("repvit", in_channels=8, out_channels=16)
    with pytest.raises(ValueError, match="stride 1 or 2"):
        cvattn.create("repvit", in_channels=8, out_channels=16, stride=3)
