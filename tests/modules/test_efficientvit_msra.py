import itertools

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, kd, h, m, kernels):
    d = c // h
    n = 0
    for k in kernels[:h]:
        n += d * (2 * kd + d) + 2 * (2 * kd + d)  # qkv 1x1 conv + BN
        n += kd * k * k + 2 * kd  # depthwise conv on q + BN
    n += d * h * c + 2 * c  # output projection + BN
    return n + h * m * m  # bias table, one entry per offset (|dy|, |dx|) per head


def test_parameter_count_closed_form():
    for c, kd, h, m, kernels in [(64, 16, 4, 7, (5, 5, 5, 5)), (48, 8, 3, 4, (7, 5, 3))]:
        mod = cvattn.create(
            "efficientvit-msra", channels=c, key_dim=kd, num_heads=h, window_size=m, kernels=kernels
        )
        assert sum(p.numel() for p in mod.parameters()) == _count(c, kd, h, m, kernels)


def _conv_bn(x, cna):
    conv, bn = cna.conv, cna.bn
    y = F.conv2d(x, conv.weight, None, 1, conv.padding, 1, conv.groups)
    return (y - bn.running_mean[:, None, None]) / torch.sqrt(
        bn.running_var[:, None, None] + bn.eps
    ) * bn.weight[:, None, None] + bn.bias[:, None, None]


def _reference(mod, x):
    n, c, hh, ww = x.shape
    m, kd, h, d = mod.window_size, mod.key_dim, mod.num_heads, mod.d
    ph, pw = -(-hh // m) * m, -(-ww // m) * m
    xp = torch.zeros(n, c, ph, pw, dtype=x.dtype)
    xp[:, :, :hh, :ww] = x
    points = list(itertools.product(range(m), range(m)))
    offsets = {}
    for p1 in points:  # the paper's table: one bias per distinct (|dy|, |dx|)
        for p2 in points:
            offsets.setdefault((abs(p1[0] - p2[0]), abs(p1[1] - p2[1])), len(offsets))
    out = torch.zeros_like(xp)
    for b in range(n):
        for wi in range(ph // m):
            for wj in range(pw // m):
                win = xp[b : b + 1, :, wi * m : (wi + 1) * m, wj * m : (wj + 1) * m]
                ys, prev = [], None
                for j in range(h):
                    feat = win[:, j * d : (j + 1) * d] + (0 if prev is None else prev)
                    qkv = _conv_bn(feat, mod.qkvs[j])
                    q = _conv_bn(qkv[:, :kd], mod.dws[j]).reshape(kd, -1)
                    k, v = qkv[:, kd : 2 * kd].reshape(kd, -1), qkv[:, 2 * kd :].reshape(d, -1)
                    logits = q.T @ k / kd**0.5
                    for a, p1 in enumerate(points):
                        for e, p2 in enumerate(points):
                            off = offsets[(abs(p1[0] - p2[0]), abs(p1[1] - p2[1]))]
                            logits[a, e] = logits[a, e] + mod.attention_biases[j, off]
                    attn = torch.exp(logits - logits.max(-1, keepdim=True).values)
                    attn = attn / attn.sum(-1, keepdim=True)
                    prev = (v @ attn.T).reshape(1, d, m, m)
                    ys.append(prev)
                y = _conv_bn(torch.relu(torch.cat(ys, 1)), mod.proj[1])
                out[b : b + 1, :, wi * m : (wi + 1) * m, wj * m : (wj + 1) * m] = y
    return out[:, :, :hh, :ww]


def _randomised(**kw):
    torch.manual_seed(0)
    mod = cvattn.create("efficientvit-msra", **kw).double().eval()
    with torch.no_grad():
        mod.attention_biases.normal_()
        for bn in [b for b in mod.modules() if isinstance(b, torch.nn.BatchNorm2d)]:
            bn.running_mean.normal_(0, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.2)
    return mod


def test_matches_reference_on_padded_non_square_input():
    mod = _randomised(channels=12, key_dim=4, num_heads=3, window_size=4, kernels=(5, 3, 3))
    x = torch.randn(2, 12, 6, 9, dtype=torch.float64)  # padded to 8 x 12: six windows
    torch.testing.assert_close(mod(x), _reference(mod, x))


def test_windows_do_not_interact():
    mod = _randomised(channels=8, key_dim=4, num_heads=2, window_size=4, kernels=(3, 3))
    x = torch.randn(1, 8, 8, 8, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 4:, 4:] += torch.randn(1, 8, 4, 4, dtype=torch.float64)  # change only the last window
    y, y2 = mod(x), mod(x2)
    torch.testing.assert_close(y[:, :, :4], y2[:, :, :4])
    torch.testing.assert_close(y[:, :, 4:, :4], y2[:, :, 4:, :4])
    assert not torch.allclose(y[:, :, 4:, 4:], y2[:, :, 4:, 4:])


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        cvattn.create("efficientvit-msra", channels=64, num_heads=8)  # four kernels for eight heads
    with pytest.raises(ValueError):
        cvattn.create("efficientvit-msra", channels=30, num_heads=4)
