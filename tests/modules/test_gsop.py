import torch

import cvattn


def test_parameter_count_closed_form():
    for c, d, k in [(256, 128, 4), (64, 32, 2)]:
        m = cvattn.create("gsop", channels=c, reduced_channels=d, row_expansion=k)
        # reduce conv + its BN + row BN + row-wise (grouped d x 1) conv + 1x1 conv to C
        expected = (c * d + d) + 2 * d + 2 * d + (k * d * d + k * d) + (k * d * c + c)
        assert sum(p.numel() for p in m.parameters()) == expected


def _bn(t, bn):
    shape = (1, -1) + (1,) * (t.dim() - 2)
    return (t - bn.running_mean.view(shape)) / torch.sqrt(
        bn.running_var.view(shape) + bn.eps
    ) * bn.weight.view(shape) + bn.bias.view(shape)


def test_gate_recomputed_from_covariance_by_hand():
    torch.manual_seed(0)
    c, d, k = 12, 6, 4
    m = cvattn.create("gsop", channels=c, reduced_channels=d, row_expansion=k).double().eval()
    for bn in (m.reduce_bn, m.row_bn):  # non-trivial running statistics and affine parameters
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    x = torch.randn(3, c, 5, 7, dtype=torch.float64)
    out = m(x)
    for n in range(3):
        xn = x[n].clamp(min=0).reshape(c, -1)  # ReLU on the input: (C, M)
        z = m.reduce.weight.view(d, c) @ xn + m.reduce.bias[:, None]  # (d, M)
        z = _bn(z[None], m.reduce_bn)[0].clamp(min=0)
        M = z.shape[1]
        mean = z.sum(1, keepdim=True) / M
        cov = sum((z[:, p : p + 1] - mean) @ (z[:, p : p + 1] - mean).T for p in range(M)) / M  # (d, d)
        cov = _bn(cov[None], m.row_bn)[0]  # row i normalised by BN channel i
        w = m.row_conv.weight.view(k * d, d)  # filter o sees row o // k
        r = torch.stack([w[o] @ cov[o // k] for o in range(k * d)]) + m.row_conv.bias
        s = torch.sigmoid(m.fc.weight.view(c, k * d) @ r + m.fc.bias)
        torch.testing.assert_close(out[n], x[n] * s[:, None, None])


def test_reduce_stride_pools_fewer_positions():
    torch.manual_seed(0)
    m = cvattn.create("gsop", channels=16, reduced_channels=8, reduce_stride=2).double().eval()
    x = torch.randn(2, 16, 9, 9, dtype=torch.float64)
    z = m.reduce_act(m.reduce_bn(m.reduce(m.act_in(x))))
    assert z.shape[-2:] == (5, 5)
    assert m(x).shape == x.shape
