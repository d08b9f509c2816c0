import pytest
import torch

import cvattn


def _ca_count(c, r):
    h = c // r
    return c * h + h + h * c + c  # W_D and W_U, 1x1 convs with bias


def test_parameter_count_closed_form():
    for c, r in [(64, 16), (48, 4)]:
        ca = cvattn.create("rcan", channels=c, reduction=r)
        assert sum(p.numel() for p in ca.parameters()) == _ca_count(c, r)
    for c, k, r in [(64, 3, 16), (32, 5, 8)]:
        rcab = cvattn.create("rcan-rcab", channels=c, kernel_size=k, reduction=r)
        assert sum(p.numel() for p in rcab.parameters()) == 2 * (c * c * k * k + c) + _ca_count(c, r)


def _ca_reference(ca, x):
    z = x.mean((2, 3))  # (N, C)
    hidden = torch.relu(torch.einsum("hc,nc->nh", ca.fc1.weight[:, :, 0, 0], z) + ca.fc1.bias)
    s = torch.einsum("ch,nh->nc", ca.fc2.weight[:, :, 0, 0], hidden) + ca.fc2.bias
    return x * (1 / (1 + torch.exp(-s)))[:, :, None, None]


def _conv_reference(x, weight, bias):
    """'Same' convolution written as a sum over kernel offsets of shifted, zero-padded inputs."""
    k = weight.shape[-1]
    p = k // 2
    h, w = x.shape[2:]
    xp = torch.zeros(x.shape[0], x.shape[1], h + 2 * p, w + 2 * p, dtype=x.dtype)
    xp[:, :, p : p + h, p : p + w] = x
    out = bias[None, :, None, None].expand(x.shape[0], -1, h, w).clone()
    for i in range(k):
        for j in range(k):
            out = out + torch.einsum("oc,nchw->nohw", weight[:, :, i, j], xp[:, :, i : i + h, j : j + w])
    return out


def test_channel_attention_matches_reference():
    torch.manual_seed(0)
    ca = cvattn.create("rcan", channels=16, reduction=4).double()
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(ca(x), _ca_reference(ca, x))


def test_rcab_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("rcan-rcab", channels=8, reduction=4).double()
    x = torch.randn(2, 8, 6, 5, dtype=torch.float64)
    res = _conv_reference(
        torch.relu(_conv_reference(x, m.conv1.weight, m.conv1.bias)), m.conv2.weight, m.conv2.bias
    )
    torch.testing.assert_close(m(x), x + _ca_reference(m.ca, res))


def test_gate_is_constant_over_space_and_in_unit_interval():
    torch.manual_seed(1)
    ca = cvattn.create("rcan", channels=16, reduction=4).double()
    x = torch.rand(1, 16, 4, 6, dtype=torch.float64) + 0.5  # positive, so x * s / x = s
    s = ca(x) / x
    torch.testing.assert_close(s, s[:, :, :1, :1].expand_as(s))
    assert ((s > 0) & (s < 1)).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="hidden width"):
        cvattn.create("rcan", channels=8, reduction=16)
    with pytest.raises(ValueError, match="kernel_size"):
        cvattn.create("rcan-rcab", channels=64, kernel_size=4)
