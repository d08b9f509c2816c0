import torch
import torch.nn.functional as F

import cvattn


def _n_params(id, **kwargs):
    return sum(p.numel() for p in cvattn.create(id, **kwargs).parameters())


def _channel_count(c, r):
    h = c // r
    return c * h + h + h * c + c


def _spatial_count(k):
    return 2 * k * k + 2  # conv without bias, BN affine


def test_parameter_count_closed_form():
    for c, r in [(64, 16), (256, 8)]:
        assert _n_params("cbam-channel", channels=c, reduction=r) == _channel_count(c, r)
        assert _n_params("cbam-spatial", channels=c) == _spatial_count(7)
        assert _n_params("cbam-spatial", channels=c, kernel_size=3) == _spatial_count(3)
        assert _n_params("cbam", channels=c, reduction=r) == _channel_count(c, r) + _spatial_count(7)


def _reference(m, x):
    """CBAM written out: separate MLP passes for avg and max, loops over channels for the pooling."""
    ch, sp = m.channel_gate, m.spatial_gate
    w0, b0 = ch.fc1.weight.flatten(1), ch.fc1.bias
    w1, b1 = ch.fc2.weight.flatten(1), ch.fc2.bias

    def mlp(v):
        return F.relu(v @ w0.T + b0) @ w1.T + b1

    avg = torch.stack([x[:, c].reshape(x.shape[0], -1).mean(1) for c in range(x.shape[1])], 1)
    mx = torch.stack([x[:, c].reshape(x.shape[0], -1).max(1).values for c in range(x.shape[1])], 1)
    x1 = x * torch.sigmoid(mlp(avg) + mlp(mx))[:, :, None, None]
    f = torch.stack([x1.max(1).values, x1.mean(1)], 1)
    z = F.conv2d(f, sp.conv.weight, padding=3)
    bn = sp.bn
    z = (z - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(bn.running_var.view(1, -1, 1, 1) + bn.eps)
    z = z * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    return x1 * torch.sigmoid(z)


def test_matches_independent_reference():
    m = cvattn.create("cbam", channels=32, reduction=4).double().eval()
    m.spatial_gate.bn.running_mean.fill_(0.3)
    m.spatial_gate.bn.running_var.fill_(2.0)
    x = torch.randn(2, 32, 9, 11, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_official_details():
    m = cvattn.create("cbam")
    assert m.spatial_gate.bn.momentum == 0.01 and m.spatial_gate.conv.bias is None
    assert m.spatial_gate.conv.padding == (3, 3)
    assert m.channel_gate.fc1.out_channels == 64 // 16
