import pytest
import torch
import torch.nn.functional as F

import cvattn


@pytest.mark.parametrize("c, n_div, k", [(64, 4, 3), (30, 3, 5), (8, 1, 3)])
def test_pconv_parameter_count_closed_form(c, n_div, k):
    m = cvattn.create("pconv", channels=c, n_div=n_div, kernel_size=k)
    cp = c // n_div
    assert sum(p.numel() for p in m.parameters()) == cp * cp * k * k


@pytest.mark.parametrize("c, n_div, ratio, ls", [(64, 4, 2, 0.0), (24, 4, 3, 0.1), (10, 3, 2, 0.0)])
def test_block_parameter_count_closed_form(c, n_div, ratio, ls):
    m = cvattn.create("pconv-block", channels=c, n_div=n_div, mlp_ratio=ratio, layer_scale_init_value=ls)
    cp, h = c // n_div, int(c * ratio)
    expected = cp * cp * 9 + c * h + 2 * h + h * c + (c if ls > 0 else 0)
    assert sum(p.numel() for p in m.parameters()) == expected


def test_pconv_matches_reference_and_leaves_the_rest_untouched():
    torch.manual_seed(0)
    m = cvattn.create("pconv", channels=12, n_div=4).double()
    x = torch.randn(2, 12, 7, 9, dtype=torch.float64, requires_grad=True)
    y = m(x)
    # reference: a full 3x3 conv whose kernel is the PConv kernel in the top-left block and the identity
    # (a centred delta) for the untouched channels
    w = torch.zeros(12, 12, 3, 3, dtype=torch.float64)
    w[:3, :3] = m.conv.weight.detach()
    w[3:, 3:, 1, 1] = torch.eye(9, dtype=torch.float64)
    torch.testing.assert_close(y, F.conv2d(x, w, padding=1))
    assert torch.equal(y[:, 3:], x[:, 3:])
    y[:, 3:].sum().backward()
    assert torch.equal(x.grad[:, 3:], torch.ones_like(x[:, 3:])) and not x.grad[:, :3].any()
    assert y.is_contiguous()


@pytest.mark.parametrize("act, ls", [("relu", 0.0), ("gelu", 0.5)])
def test_block_matches_reference(act, ls):
    torch.manual_seed(0)
    m = cvattn.create("pconv-block", channels=16, act_layer=act, layer_scale_init_value=ls).double()
    bn = m.mlp[1]
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.5, 0.5)
    m.eval()
    x = torch.randn(2, 16, 6, 10, dtype=torch.float64)
    z = torch.cat((F.conv2d(x[:, :4], m.spatial_mixing.conv.weight, padding=1), x[:, 4:]), 1)
    h = torch.einsum("nchw,dc->ndhw", z, m.mlp[0].weight[:, :, 0, 0])
    h = (h - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    h = h * bn.weight[:, None, None] + bn.bias[:, None, None]
    h = h.clamp_min(0) if act == "relu" else F.gelu(h)
    z = torch.einsum("ndhw,cd->nchw", h, m.mlp[3].weight[:, :, 0, 0])
    if ls > 0:
        z = m.layer_scale[:, None, None] * z
    torch.testing.assert_close(m(x), x + z)


def test_block_drop_path_drops_whole_samples():
    torch.manual_seed(2)
    m = cvattn.create("pconv-block", channels=8, drop_path=0.5).double().train()
    x = torch.randn(64, 8, 5, 5, dtype=torch.float64)
    y = m(x)
    dropped = torch.isclose(y, x).flatten(1).all(1)
    assert 0 < int(dropped.sum()) < 64


def test_rejects_bad_arguments_and_input():
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("pconv", channels=3, n_div=4)
    m = cvattn.create("pconv", channels=16)
    with pytest.raises(ValueError, match="expected"):
        m(torch.randn(2, 8, 7, 7))
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("pconv-block", channels=16)(torch.randn(16, 7, 7))
