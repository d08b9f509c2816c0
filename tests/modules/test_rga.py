import pytest
import torch

import cvattn


def _cna(i, o):
    return i * o + 2 * o


def _spatial_count(c, hw):
    ci, si = c // 8, hw // 8
    wd = (1 + si) // 8
    return 3 * _cna(c, ci) + _cna(2 * hw, si) + _cna(1 + si, wd) + _cna(wd, 1)


def _channel_count(c, hw):
    ci, si = c // 8, hw // 8
    wd = (1 + ci) // 8
    return 3 * _cna(hw, si) + _cna(2 * c, ci) + _cna(1 + ci, wd) + _cna(wd, 1)


def test_parameter_count_closed_form():
    for c, size in [(64, (16, 8)), (256, (24, 8))]:
        hw = size[0] * size[1]
        m = cvattn.create("rga-spatial", channels=c, spatial_size=size)
        assert sum(p.numel() for p in m.parameters()) == _spatial_count(c, hw)
        m = cvattn.create("rga-channel", channels=c, spatial_size=size)
        assert sum(p.numel() for p in m.parameters()) == _channel_count(c, hw)


def _apply(cna, t):
    """conv(1x1, no bias) -> eval BN -> act, by einsum; t: (N, Cin, A, B)."""
    conv, bn = cna.conv, cna.bn
    t = torch.einsum("oc,ncab->noab", conv.weight[:, :, 0, 0], t)
    t = (t - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    t = t * bn.weight[:, None, None] + bn.bias[:, None, None]
    return torch.relu(t) if isinstance(cna.act, torch.nn.ReLU) else t


def _randomise_bn(m):
    for bn in [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]:
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)


def test_spatial_attention_matches_loop_reference():
    torch.manual_seed(0)
    m = cvattn.create("rga-spatial", channels=16, spatial_size=(4, 4)).double().eval()
    _randomise_bn(m)
    x = torch.randn(2, 16, 4, 4, dtype=torch.float64)
    theta, phi = _apply(m.theta, x).flatten(2), _apply(m.phi, x).flatten(2)
    rel = torch.zeros(2, 32, 16, dtype=torch.float64)  # (N, 2HW, HW): [r_ji ; r_ij] for position i
    for i in range(16):
        for j in range(16):
            rel[:, j, i] = (theta[:, :, j] * phi[:, :, i]).sum(1)
            rel[:, 16 + j, i] = (theta[:, :, i] * phi[:, :, j]).sum(1)
    rel = _apply(m.psi_r, rel.reshape(2, 32, 4, 4))
    own = _apply(m.psi_x, x).mean(1, keepdim=True)
    a = _apply(m.W[1], _apply(m.W[0], torch.cat([own, rel], 1)))
    torch.testing.assert_close(m(x), torch.sigmoid(a) * x)


def test_channel_attention_matches_reference():
    torch.manual_seed(1)
    m = cvattn.create("rga-channel", channels=16, spatial_size=(4, 2)).double().eval()
    _randomise_bn(m)
    x = torch.randn(2, 16, 4, 2, dtype=torch.float64)
    nodes = x.flatten(2).transpose(1, 2)[..., None]  # (N, HW, C, 1)
    theta, phi = _apply(m.theta, nodes)[..., 0], _apply(m.phi, nodes)[..., 0]
    r = torch.einsum("nsi,nsj->nij", theta, phi)
    rel = _apply(m.psi_r, torch.cat([r.transpose(1, 2), r], 1)[..., None])
    own = _apply(m.psi_x, nodes).mean(1, keepdim=True)
    a = _apply(m.W[1], _apply(m.W[0], torch.cat([own, rel], 1)))[:, 0, :, 0]
    torch.testing.assert_close(m(x), torch.sigmoid(a)[:, :, None, None] * x)


def test_other_spatial_size_is_refused():
    m = cvattn.create("rga-spatial")
    with pytest.raises(ValueError, match="spatial_size"):
        m(torch.randn(1, 64, 13, 17))
