import torch
import torch.nn.functional as F

import cvattn


def _gate_params(c: int, r: int, f: int) -> int:
    h, g = 2 * c // r, c // f
    depthwise = 2 * (2 * c + 9 * c)  # two pre-activation depthwise 3x3: BN (2C) + C*9 weights
    contexts = 3 * c  # three 1x1 convs C -> 1 without bias (forget, 3x3, dilated 3x3)
    update = (2 * c * h + h) + 2 * h + 2 * (h * c + c)  # fc 2C -> h, BN(h), two fc h -> C
    forget = (c * g + g) + 2 * g + (g * c + c)  # fc C -> g, BN(g), fc g -> C
    return depthwise + contexts + update + forget


def test_parameter_count_closed_form():
    for c, r, f in [(32, 2, 2), (48, 4, 4)]:
        m = cvattn.create("hcgnet-gate", channels=c, reduction=r, forget_reduction=f)
        assert sum(p.numel() for p in m.parameters()) == _gate_params(c, r, f)
    for cin, k, bn, g in [(64, 32, 4, 4), (40, 16, 2, 2)]:
        m = cvattn.create("hcgnet", channels=cin, growth_rate=k, bn_size=bn, groups=g)
        squeeze = 2 * cin + cin * bn * k + 2 * bn * k + k * (bn * k // g) * 9
        assert sum(p.numel() for p in m.parameters()) == squeeze + _gate_params(k, 2, 2)


def _bn_eval(x, bn):
    def v(t):
        return t.view(1, -1, 1, 1)

    return (x - v(bn.running_mean)) / torch.sqrt(v(bn.running_var) + bn.eps) * v(bn.weight) + v(bn.bias)


def test_gates_match_the_official_formulas():
    torch.manual_seed(0)
    m = cvattn.create("hcgnet-gate", channels=8).double().eval()
    for bn in [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]:
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(3, 8, 5, 7, dtype=torch.float64)
    n, c = 3, 8

    def dense(conv, v):  # a 1x1 conv on a (N, Cin) vector
        return v @ conv.weight.flatten(1).T + conv.bias

    def context(v, conv):  # official: global_pool(v * softmax(conv(v))) * H * W
        logits = (v * conv.weight.view(1, -1, 1, 1)).sum(1)  # (N, H, W)
        p = logits.flatten(1).softmax(1).view(n, 1, 5, 7)
        return (v * p).mean((2, 3)) * 35

    def preact(block, v, pad, dil):
        return F.conv2d(F.relu(_bn_eval(v, block.norm)), block.conv.weight, None, 1, pad, dil, c)

    z_f = dense(m.forget_fc1, context(x, m.forget_context)).view(n, -1, 1, 1)
    g_f = torch.sigmoid(dense(m.forget_fc2, torch.tanh(_bn_eval(z_f, m.forget_bn).flatten(1))))
    x3, x5 = preact(m.conv3x3, x, 1, 1), preact(m.conv3x3_dilated, x, 2, 2)
    c3, c5 = context(x3, m.context3x3), context(x5, m.context3x3_dilated)
    a = torch.tanh(
        _bn_eval(dense(m.update_fc, torch.cat([c3, c5], 1)).view(n, -1, 1, 1), m.update_bn).flatten(1)
    )
    w3, w5 = dense(m.fc3x3, a), dense(m.fc3x3_dilated, a)
    s3 = torch.exp(w3) / (torch.exp(w3) + torch.exp(w5))
    ref = x * g_f[:, :, None, None] + (s3 * c3 + (1 - s3) * c5)[:, :, None, None]
    torch.testing.assert_close(m(x), ref)


def test_smg_is_dense_and_batch_one_trains():
    m = cvattn.create("hcgnet", channels=16, growth_rate=8).train()
    x = torch.randn(1, 16, 9, 11)
    y = m(x)
    assert y.shape == (1, 24, 9, 11)
    assert torch.equal(y[:, :16], x)  # the input is passed through (concatenated), unchanged
