import pytest
import torch
import torch.nn.functional as F

import cvattn
from cvattn.attention.nafnet import _channel_layer_norm


def test_parameter_count_closed_form():
    for c in (16, 64):
        sca = cvattn.create("nafnet-sca", channels=c)
        assert sum(p.numel() for p in sca.parameters()) == c * c + c
    assert sum(p.numel() for p in cvattn.create("nafnet-simplegate").parameters()) == 0
    for c, e, f in [(32, 2, 2), (8, 4, 1), (16, 2, 4)]:
        m = cvattn.create("nafnet", channels=c, dw_expand=e, ffn_expand=f)
        dw, ffn = e * c, f * c
        expected = (
            4 * c  # two layer norms
            + c * dw
            + dw  # conv1
            + 9 * dw
            + dw  # depth-wise conv2
            + (dw // 2) ** 2
            + dw // 2  # SCA
            + dw // 2 * c
            + c  # conv3
            + c * ffn
            + ffn  # conv4
            + ffn // 2 * c
            + c  # conv5
            + 2 * c  # beta, gamma
        )
        assert sum(p.numel() for p in m.parameters()) == expected


def test_sca_and_simplegate_match_their_equations():
    sca = cvattn.create("nafnet-sca", channels=5).double()
    x = torch.randn(2, 5, 3, 4, dtype=torch.float64)
    pooled = x.sum((2, 3)) / 12
    w = pooled @ sca.conv.weight.flatten(1).T + sca.conv.bias  # (N, C), no gate
    torch.testing.assert_close(sca(x), x * w[:, :, None, None])
    sg = cvattn.create("nafnet-simplegate", channels=None)
    y = torch.randn(2, 6, 3, 4)
    torch.testing.assert_close(sg(y), y[:, :3] * y[:, 3:])
    with pytest.raises(ValueError, match="expected"):
        sg(torch.randn(2, 5, 3, 4))


def _layer_norm_channels(x, w, b):
    # nn.functional.layer_norm over C, position by position
    return F.layer_norm(x.permute(0, 2, 3, 1), (x.shape[1],), w, b, eps=1e-6).permute(0, 3, 1, 2)


def test_block_matches_reference():
    m = cvattn.create("nafnet", channels=4).double()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    x = torch.randn(2, 4, 5, 6, dtype=torch.float64)
    z = _layer_norm_channels(x, m.norm1.weight, m.norm1.bias)
    z = F.conv2d(F.conv2d(z, m.conv1.weight, m.conv1.bias), m.conv2.weight, m.conv2.bias, padding=1, groups=8)
    z = z[:, :4] * z[:, 4:]
    att = F.conv2d(z.mean((2, 3), keepdim=True), m.sca.conv.weight, m.sca.conv.bias)
    y = x + F.conv2d(z * att, m.conv3.weight, m.conv3.bias) * m.beta
    z = F.conv2d(_layer_norm_channels(y, m.norm2.weight, m.norm2.bias), m.conv4.weight, m.conv4.bias)
    ref = y + F.conv2d(z[:, :4] * z[:, 4:], m.conv5.weight, m.conv5.bias) * m.gamma
    torch.testing.assert_close(m(x), ref)


def test_zero_init_block_is_identity():
    m = cvattn.create("nafnet", channels=8, zero_init=True)
    x = torch.randn(2, 8, 5, 5)
    assert torch.equal(m(x), x)


def test_layer_norm_backward_matches_autograd():
    m = cvattn.create("nafnet", channels=4).double()
    with torch.no_grad():
        m.norm1.weight.normal_()
        m.norm1.bias.normal_()
    x = torch.randn(2, 4, 3, 5, dtype=torch.float64, requires_grad=True)
    w, b = m.norm1.weight.detach().requires_grad_(), m.norm1.bias.detach().requires_grad_()
    assert torch.autograd.gradcheck(lambda t, w, b: _channel_layer_norm(t, w, b, 1e-6), (x, w, b))
    ref = _layer_norm_channels(x, m.norm1.weight, m.norm1.bias)
    g = torch.randn_like(ref)
    torch.testing.assert_close(
        torch.autograd.grad(m.norm1(x), (x, m.norm1.weight), g),
        torch.autograd.grad(ref, (x, m.norm1.weight), g),
    )
