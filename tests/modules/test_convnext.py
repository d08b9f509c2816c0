import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, k=7, ratio=4, layer_scale=True):
    h = int(ratio * c)
    return (c * k * k + c) + 2 * c + (c * h + h) + (h * c + c) + (c if layer_scale else 0)


@pytest.mark.parametrize("c, k, ratio, ls", [(64, 7, 4, 1e-6), (24, 5, 2, 0.0), (16, 7, 3, 0.5)])
def test_parameter_count_closed_form(c, k, ratio, ls):
    m = cvattn.create("convnext", channels=c, kernel_size=k, mlp_ratio=ratio, layer_scale_init_value=ls)
    assert sum(p.numel() for p in m.parameters()) == _count(c, k, ratio, ls > 0)


def _reference(m, x):
    # written out: depthwise conv, LayerNorm over channels, Linear-GELU-Linear on channels, layer scale, residual
    w = m.dwconv.weight
    k = w.shape[-1]
    z = F.conv2d(x, w, m.dwconv.bias, padding=k // 2, groups=x.shape[1])
    mu = z.mean(1, keepdim=True)
    var = ((z - mu) ** 2).mean(1, keepdim=True)
    z = (z - mu) / torch.sqrt(var + m.norm.eps)
    z = z * m.norm.weight[:, None, None] + m.norm.bias[:, None, None]
    h = torch.einsum("nchw,dc->ndhw", z, m.pwconv1.weight) + m.pwconv1.bias[:, None, None]
    h = 0.5 * h * (1 + torch.erf(h / math.sqrt(2)))
    z = torch.einsum("ndhw,cd->nchw", h, m.pwconv2.weight) + m.pwconv2.bias[:, None, None]
    if m.gamma is not None:
        z = m.gamma[:, None, None] * z
    return x + z


@pytest.mark.parametrize("ls", [1e-6, 0.7, 0.0])
def test_matches_reference(ls):
    torch.manual_seed(0)
    m = cvattn.create("convnext", channels=16, layer_scale_init_value=ls).double()
    with torch.no_grad():
        for p in m.parameters():
            p.uniform_(-0.5, 0.5)
    x = torch.randn(2, 16, 9, 11, dtype=torch.float64)
    y = m(x)
    torch.testing.assert_close(y, _reference(m, x), rtol=1e-10, atol=1e-10)
    assert y.is_contiguous()


def test_layer_scale_starts_near_identity():
    m = cvattn.create("convnext", channels=32)
    x = torch.randn(2, 32, 8, 8)
    assert (m(x) - x).abs().max() < 1e-3
    torch.testing.assert_close(m.gamma, torch.full((32,), 1e-6))


def test_drop_path_drops_whole_samples_and_rescales_the_rest():
    torch.manual_seed(1)
    m = cvattn.create("convnext", channels=8, layer_scale_init_value=1.0, drop_path=0.5).double()
    x = torch.randn(64, 8, 5, 5, dtype=torch.float64)
    branch = _reference(m, x) - x
    y = m.train()(x)
    dropped = torch.isclose(y, x).flatten(1).all(1)
    kept = torch.isclose(y, x + 2.0 * branch).flatten(1).all(1)
    assert bool((dropped ^ kept).all()) and 0 < int(dropped.sum()) < 64
    torch.testing.assert_close(m.eval()(x), x + branch)  # eval keeps every branch, unscaled


def test_channels_last_output_layout():
    m = cvattn.create("convnext", channels=16)
    x = torch.randn(2, 16, 7, 9).to(memory_format=torch.channels_last)
    y = m(x)
    assert y.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(y, m(x.contiguous()))


def test_rejects_bad_input():
    m = cvattn.create("convnext", channels=16)
    with pytest.raises(ValueError, match="expected"):
        m(torch.randn(2, 8, 7, 7))
    with pytest.raises(ValueError, match="expected"):
        m(torch.randn(16, 7, 7))
