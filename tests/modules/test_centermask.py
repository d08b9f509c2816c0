import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    # one full-width 1x1 conv with bias: C^2 + C
    for c in (64, 24):
        m = cvattn.create("centermask-ese", channels=c)
        assert sum(p.numel() for p in m.parameters()) == c * c + c


def _reference(m, x):
    z = x.sum((2, 3)) / (x.shape[2] * x.shape[3])  # (N, C)
    a = torch.einsum("oc,nc->no", m.fc.weight[:, :, 0, 0], z) + m.fc.bias
    a = torch.clamp(a + 3, 0, 6) / 6  # hard sigmoid as the paper's code writes it
    return x * a[:, :, None, None]


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("centermask-ese", channels=12).double()
    with torch.no_grad():
        m.fc.weight.mul_(20)  # push some gate inputs beyond +-3, into both saturated ranges
    x = torch.randn(2, 12, 5, 9, dtype=torch.float64) + 0.3
    a = _reference(m, x) / x
    assert (a == 0).any() and (a == 1).any()
    torch.testing.assert_close(m(x), _reference(m, x))


def test_gate_is_constant_over_space():
    torch.manual_seed(1)
    m = cvattn.create("centermask-ese", channels=8).double()
    x = torch.rand(1, 8, 4, 6, dtype=torch.float64) + 0.5
    a = m(x) / x
    torch.testing.assert_close(a, a[:, :, :1, :1].expand_as(a))


def test_bad_arguments():
    with pytest.raises(ValueError):
        cvattn.create("centermask-ese", channels=0)
