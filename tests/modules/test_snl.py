import pytest
import torch

import cvattn


def _n(m):
    return sum(p.numel() for p in m.parameters())


def _randomise_bn(module):
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm2d):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.5, 0.5)


def _conv1x1(x, conv):
    return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x)


def _bn(x, bn):
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return (x - bn.running_mean[None, :, None, None]) * scale[None, :, None, None] + bn.bias[
        None, :, None, None
    ]


def _affinity_by_hand(m, x):
    """A = (T^T P + P^T T) / 2 with ReLU'd embeddings, normalised as D^-1/2 A D^-1/2 entry by entry."""
    t = _conv1x1(x, m.t).clamp_min(0).flatten(2)  # (N, P, L)
    p = _conv1x1(x, m.p).clamp_min(0).flatten(2)
    n, _, length = t.shape
    a = torch.zeros(n, length, length, dtype=x.dtype)
    for i in range(length):
        for j in range(length):
            a[:, i, j] = ((t[:, :, i] * p[:, :, j]).sum(1) + (t[:, :, j] * p[:, :, i]).sum(1)) / 2
    d = a.sum(2)
    d_inv_sqrt = torch.where(d > 0, d.clamp_min(1e-300) ** -0.5, torch.zeros_like(d))
    return d_inv_sqrt[:, :, None] * a * d_inv_sqrt[:, None, :]


def test_parameter_count_closed_form():
    for c, hidden, units in [(64, None, 1), (48, 12, 3)]:
        m = cvattn.create("snl", channels=c, hidden_channels=hidden, stage_num=units)
        p = hidden or c // 2
        # theta and phi (no bias); per unit: g, W_1, W_2 (no bias) and a BatchNorm over C
        assert _n(m) == 2 * c * p + units * (3 * c * p + 2 * c)


def test_matches_reference_from_the_equations():
    torch.manual_seed(0)
    m = cvattn.create("snl", channels=10, hidden_channels=4, stage_num=2).double().eval()
    _randomise_bn(m)
    x = torch.randn(2, 10, 5, 7, dtype=torch.float64)
    a_hat = _affinity_by_hand(m, x)
    out = x
    for unit in m.stages:
        z = _conv1x1(out, unit.g)
        propagated = torch.einsum("nij,npj->npi", a_hat, z.flatten(2)).reshape(z.shape)
        out = _bn(_conv1x1(z, unit.w_1) + _conv1x1(propagated, unit.w_2), unit.bn).clamp_min(0) + out
    torch.testing.assert_close(m(x), out)


def test_affinity_is_symmetric_with_spectrum_in_minus_one_one():
    torch.manual_seed(1)
    m = cvattn.create("snl", channels=8).double()
    a_hat = m.affinity(torch.randn(2, 8, 4, 6, dtype=torch.float64))
    torch.testing.assert_close(a_hat, a_hat.transpose(1, 2))
    eig = torch.linalg.eigvalsh(a_hat)  # normalised adjacency: eigenvalues in [-1, 1], the largest is 1
    assert eig.abs().max() <= 1 + 1e-9
    torch.testing.assert_close(eig[:, -1], torch.ones(2, dtype=torch.float64))


def test_zero_degree_positions_get_zero_rows():
    m = cvattn.create("snl", channels=4, hidden_channels=2).double()
    with torch.no_grad():
        m.t.weight.fill_(1.0)
        m.p.weight.fill_(1.0)
    x = torch.ones(1, 4, 2, 3, dtype=torch.float64)
    x[0, :, 0, 0] = -1.0  # embeddings ReLU to zero here: degree 0
    a_hat = m.affinity(x)
    assert torch.isfinite(a_hat).all()
    assert a_hat[0, 0].abs().sum() == 0 and a_hat[0, :, 0].abs().sum() == 0


@pytest.mark.parametrize("kwargs", [{"hidden_channels": 0}, {"stage_num": 0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        cvattn.create("snl", channels=8, **kwargs)
