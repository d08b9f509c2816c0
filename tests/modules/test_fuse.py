import doctest
import itertools

import pytest
import torch
from torch import nn

import cvattn
from cvattn.blocks.fuse import fuse_conv_bn

CONFIGS = [
    # (in, out, kernel, stride, padding, dilation, groups, bias, padding_mode)
    (8, 16, 3, 1, 1, 1, 1, False, "zeros"),
    (8, 16, 3, 2, 0, 1, 1, True, "zeros"),
    (8, 12, (3, 5), (2, 1), (1, 2), (2, 1), 4, True, "zeros"),
    (6, 6, 5, 1, "same", 2, 6, False, "zeros"),
    (6, 9, 1, 1, "valid", 1, 3, True, "zeros"),
    (4, 8, 3, 1, 2, 1, 1, False, "reflect"),
    (4, 8, 3, 2, 1, 1, 2, True, "replicate"),
    (4, 4, 3, 1, 1, 3, 1, False, "circular"),
]


def _random_bn(channels, affine=True):
    bn = nn.BatchNorm2d(channels, affine=affine, eps=1e-3).double().eval()
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.2, 3)
    if affine:
        bn.weight.data.uniform_(-2, 2)
        bn.bias.data.uniform_(-1, 1)
    return bn


@pytest.mark.parametrize(("config", "affine"), list(itertools.product(CONFIGS, [True, False])))
def test_fused_equals_conv_then_bn(config, affine):
    cin, cout, k, s, p, d, g, bias, mode = config
    conv = nn.Conv2d(cin, cout, k, s, p, d, g, bias, padding_mode=mode).double()
    bn = _random_bn(cout, affine)
    weight_before = conv.weight.clone()
    fused = fuse_conv_bn(conv, bn)
    x = torch.randn(2, cin, 11, 13, dtype=torch.float64)
    with torch.no_grad():
        ref = bn(conv(x))
        out = fused(x)
    assert (out - ref).abs().max() <= 1e-5
    # a plain conv with bias: same geometry, fresh parameters, inputs untouched
    assert isinstance(fused, nn.Conv2d) and fused.bias is not None
    assert (fused.stride, fused.padding, fused.dilation, fused.groups, fused.padding_mode) == (
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        conv.padding_mode,
    )
    assert (
        sum(q.numel() for q in fused.parameters())
        == cout * (cin // g) * conv.kernel_size[0] * conv.kernel_size[1] + cout
    )
    assert fused.weight.dtype == torch.float64 and fused.weight.requires_grad
    assert torch.equal(conv.weight, weight_before)


def test_fused_weight_closed_form():
    conv = nn.Conv2d(3, 2, 1, bias=True).double()
    bn = _random_bn(2)
    fused = fuse_conv_bn(conv, bn)
    for o in range(2):
        s = bn.weight[o] / (bn.running_var[o] + bn.eps) ** 0.5
        torch.testing.assert_close(fused.weight[o], conv.weight[o] * s)
        torch.testing.assert_close(fused.bias[o], bn.bias[o] + (conv.bias[o] - bn.running_mean[o]) * s)


def test_mismatch_and_missing_statistics_raise():
    conv = nn.Conv2d(4, 8, 3)
    with pytest.raises(ValueError, match="expected a batch norm over 8"):
        fuse_conv_bn(conv, nn.BatchNorm2d(4))
    with pytest.raises(ValueError, match="running statistics"):
        fuse_conv_bn(conv, nn.BatchNorm2d(8, track_running_stats=False))
    with pytest.raises(ValueError, match="expects"):
        fuse_conv_bn(nn.Linear(4, 8), nn.BatchNorm2d(8))


def test_exported_and_example_runs():
    assert cvattn.fuse_conv_bn is fuse_conv_bn
    runner = doctest.DocTestRunner()
    for t in doctest.DocTestFinder().find(fuse_conv_bn, "fuse_conv_bn", globs={}):
        runner.run(t)
    assert runner.tries > 0 and runner.failures == 0
