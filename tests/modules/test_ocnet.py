import pytest
import torch

import cvattn


def _n(m):
    return sum(p.numel() for p in m.parameters())


def _randomise_bn(module):
    """Non-trivial BatchNorm statistics and affine parameters, so an eval-mode reference must apply them."""
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm2d):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.5, 0.5)


def _conv1x1(x, conv):
    return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]


def _bn_leaky(x, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    y = (x - bn.running_mean[None, :, None, None]) * scale[None, :, None, None] + bn.bias[None, :, None, None]
    return torch.where(y > 0, y, 0.01 * y)


def test_parameter_count_closed_form():
    for c, ck, cv in [(64, None, None), (48, 8, 20)]:
        m = cvattn.create("ocnet", channels=c, key_channels=ck, value_channels=cv)
        ck, cv = ck or c // 2, cv or c // 2
        # shared query/key conv + BN, value conv, W, fusion conv (2C -> C) + BN
        assert _n(m) == (c * ck + ck + 2 * ck) + (c * cv + cv) + (cv * c + c) + (2 * c * c + c + 2 * c)


def test_matches_reference_from_the_equations():
    torch.manual_seed(0)
    m = cvattn.create("ocnet", channels=12, key_channels=4, value_channels=6).double().eval()
    _randomise_bn(m)
    x = torch.randn(2, 12, 5, 7, dtype=torch.float64)
    theta = _bn_leaky(_conv1x1(x, m.f_key.conv), m.f_key.bn).flatten(2)  # (N, K, HW)
    phi = _conv1x1(x, m.f_value).flatten(2)  # (N, V, HW)
    logits = torch.einsum("nki,nkj->nij", theta, theta) / 4**0.5
    w = torch.exp(logits - logits.amax(-1, keepdim=True))
    w = w / w.sum(-1, keepdim=True)  # object context map, softmax over j
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 35, dtype=torch.float64))
    context = torch.einsum("nij,nvj->nvi", w, phi).reshape(2, 6, 5, 7)
    context = _conv1x1(context, m.W)
    expected = _bn_leaky(_conv1x1(torch.cat([context, x], 1), m.fuse.conv), m.fuse.bn)
    torch.testing.assert_close(m(x), expected)


def test_object_context_map_is_symmetric_before_the_softmax():
    # query and key share one embedding, so the logits theta_i . theta_j are symmetric in i and j
    torch.manual_seed(1)
    m = cvattn.create("ocnet", channels=8).double().eval()
    x = torch.randn(1, 8, 4, 6, dtype=torch.float64)
    theta = m.f_key(x).flatten(2)
    logits = theta.transpose(1, 2) @ theta
    torch.testing.assert_close(logits, logits.transpose(1, 2))


def test_zero_init_returns_the_fusion_of_the_input_alone():
    torch.manual_seed(2)
    m = cvattn.create("ocnet", channels=8, zero_init=True).double().eval()
    x = torch.randn(2, 8, 3, 5, dtype=torch.float64)
    zeros = torch.zeros_like(x)
    torch.testing.assert_close(m(x), m.drop(m.fuse(torch.cat([zeros, x], 1))))


@pytest.mark.parametrize("kwargs", [{"key_channels": 0}, {"value_channels": -1}, {"dropout": 1.0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        cvattn.create("ocnet", channels=8, **kwargs)
