import math

import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    for c, k, h in [(64, 20, 1), (32, 80, 4), (16, 7, 8)]:
        m = cvattn.create("csra", channels=c, num_classes=k, num_heads=h)
        assert sum(p.numel() for p in m.parameters()) == h * k * c


def test_official_temperatures():
    assert cvattn.create("csra", num_heads=6).temperatures == (1.0, 2.0, 3.0, 4.0, 5.0, math.inf)
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("csra", num_heads=3)


def _reference(m, x):
    """Eq. (8) of the paper head by head, with an explicit loop over classes."""
    n, c, h, w = x.shape
    feats = x.reshape(n, c, h * w)  # x_k, k = 1..HW
    logits = torch.zeros(n, m.num_classes, dtype=x.dtype)
    for head, t in zip(m.heads, m.temperatures, strict=True):
        for j in range(m.num_classes):
            mj = head.weight[j].flatten()
            s = torch.einsum("c,nck->nk", mj, feats) / mj.norm()  # (N, HW)
            g = s.mean(1)
            a = (
                s.max(1).values
                if math.isinf(t)
                else (s * torch.exp(t * s) / torch.exp(t * s).sum(1, keepdim=True)).sum(1)
            )
            logits[:, j] += g + m.lam * a
    return logits


@pytest.mark.parametrize("temperatures", [(1.0,), (math.inf, 2.0), (1.0, 2.0, 4.0, math.inf)])
def test_matches_per_class_reference(temperatures):
    m = cvattn.create("csra", channels=6, num_classes=5, lam=0.3, temperatures=temperatures).double()
    x = torch.randn(2, 6, 3, 5, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_classifier_scale_does_not_matter():
    # the classifiers are normalised: scaling one class's weights leaves every logit unchanged
    m = cvattn.create("csra", channels=8, num_classes=4, num_heads=2).double()
    x = torch.randn(3, 8, 4, 4, dtype=torch.float64)
    before = m(x)
    with torch.no_grad():
        m.heads[1].weight[2].mul_(7.0)
    torch.testing.assert_close(m(x), before)
