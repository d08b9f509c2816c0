import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for k, no_spatial, branches in [(7, False, 3), (5, True, 2)]:
        m = cvattn.create("triplet-attention", channels=32, kernel_size=k, no_spatial=no_spatial)
        assert sum(p.numel() for p in m.parameters()) == branches * (2 * k * k + 2)


def _gate(seq, t):
    """The official SpatialGate on an already rotated tensor: Z-pool over dim 1, conv, eval BN, sigmoid."""
    conv, bn = seq[0], seq[1]
    pooled = torch.cat([t.max(1, keepdim=True).values, t.mean(1, keepdim=True)], 1)
    z = F.conv2d(pooled, conv.weight, padding=conv.padding)
    z = (z - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    return t * torch.sigmoid(z)


def test_matches_official_rotation_reference():
    m = cvattn.create("triplet-attention", channels=12).double().eval()
    for g in (m.cw, m.hc, m.hw):
        g[1].running_mean.fill_(0.2)
        g[1].running_var.fill_(1.5)
        g[1].weight.data.fill_(0.7)
    x = torch.randn(2, 12, 9, 11, dtype=torch.float64)
    out1 = _gate(m.cw, x.permute(0, 2, 1, 3)).permute(0, 2, 1, 3)
    out2 = _gate(m.hc, x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
    out3 = _gate(m.hw, x)
    torch.testing.assert_close(m(x), (out1 + out2 + out3) / 3)
    m2 = cvattn.create("triplet-attention", channels=12, no_spatial=True).double().eval()
    m2.cw.load_state_dict(m.cw.state_dict())
    m2.hc.load_state_dict(m.hc.state_dict())
    torch.testing.assert_close(m2(x), (out1 + out2) / 2)
