import pytest
import torch
import torch.nn.functional as F

import cvattn


def _n_params(id, **kwargs):
    return sum(p.numel() for p in cvattn.create(id, **kwargs).parameters())


def _cse_count(c, r):
    h = c // r
    return c * h + h + h * c + c


def test_parameter_count_closed_form():
    for c, r in [(64, 2), (256, 8)]:
        assert _n_params("scse-cse", channels=c, reduction=r) == _cse_count(c, r)
        assert _n_params("scse-sse", channels=c) == c + 1
        assert _n_params("scse", channels=c, reduction=r) == _cse_count(c, r) + c + 1


@pytest.mark.parametrize("combine", ["max", "add", "mul", "mean"])
def test_matches_independent_reference(combine):
    m = cvattn.create("scse", channels=16, combine=combine).double().eval()
    x = torch.randn(2, 16, 7, 9, dtype=torch.float64)
    cse = m.cse
    z = torch.einsum("nchw->nc", x) / 63
    s = torch.sigmoid(
        F.relu(z @ cse.fc1.weight.flatten(1).T + cse.fc1.bias) @ cse.fc2.weight.flatten(1).T + cse.fc2.bias
    )
    a = x * s[:, :, None, None]
    q = torch.sigmoid(torch.einsum("nchw,c->nhw", x, m.sse.conv.weight.flatten()) + m.sse.conv.bias)
    b = x * q[:, None]
    expected = {"max": torch.where(a > b, a, b), "add": a + b, "mul": a * b, "mean": (a + b) / 2}[combine]
    torch.testing.assert_close(m(x), expected)


def test_default_is_official_max_and_rejects_unknown_combination():
    assert cvattn.create("scse").combine == "max"
    assert cvattn.create("scse").cse.fc1.out_channels == 32  # reduction 2
    with pytest.raises(ValueError, match="combine"):
        cvattn.create("scse", combine="min")
