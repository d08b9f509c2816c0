import math

import pytest
import torch

import cvattn


def _count(c, p, k, hidden):
    f = c * p * p
    if hidden is None:
        return f * k + k  # regression layer on the pooled summary
    return f * hidden + hidden + hidden * k + k


def test_parameter_count_closed_form():
    for c, transform, p, hidden in [(16, "affine", 4, None), (8, "attention", 3, 20), (8, "affine", 2, 5)]:
        m = cvattn.create("stn", channels=c, transform=transform, pool_size=p, hidden=hidden)
        k = 6 if transform == "affine" else 3
        assert sum(q.numel() for q in m.parameters()) == _count(c, p, k, hidden)


def _reference(x, a):
    """The paper's grid generator (affine map of normalised target coordinates) and bilinear sampler."""
    n, c, h, w = x.shape
    ys, xs = torch.meshgrid(
        torch.linspace(-1, 1, h, dtype=x.dtype), torch.linspace(-1, 1, w, dtype=x.dtype), indexing="ij"
    )
    target = torch.stack([xs.flatten(), ys.flatten(), torch.ones(h * w, dtype=x.dtype)])  # (3, HW)
    out = torch.zeros(n, c, h * w, dtype=x.dtype)
    m_idx = torch.arange(w, dtype=x.dtype)
    n_idx = torch.arange(h, dtype=x.dtype)
    for b in range(n):
        src = a[b] @ target  # (2, HW) normalised source coordinates
        xs_pix = (src[0] + 1) * (w - 1) / 2
        ys_pix = (src[1] + 1) * (h - 1) / 2
        kx = torch.clamp(1 - (xs_pix[:, None] - m_idx[None]).abs(), min=0)  # (HW, W)
        ky = torch.clamp(1 - (ys_pix[:, None] - n_idx[None]).abs(), min=0)  # (HW, H)
        out[b] = torch.einsum("cnm,in,im->ci", x[b], ky, kx)
    return out.view(n, c, h, w)


@pytest.mark.parametrize("transform", ["affine", "attention"])
def test_matches_reference_on_non_square_input(transform):
    torch.manual_seed(0)
    m = cvattn.create("stn", channels=5, transform=transform, pool_size=3, hidden=7).double()
    with torch.no_grad():
        for q in m.parameters():
            q.normal_(std=0.3)
    x = torch.randn(2, 5, 9, 6, dtype=torch.float64)
    z = torch.nn.functional.adaptive_avg_pool2d(x, 3).flatten(1)
    params = m.regress(torch.relu(m.hidden[0](z)))
    if transform == "affine":
        a = params.view(2, 2, 3)
    else:
        s, tx, ty = params.T
        a = torch.stack([torch.stack([s, 0 * s, tx], 1), torch.stack([0 * s, s, ty], 1)], 1)
    torch.testing.assert_close(m.theta(x), a)
    torch.testing.assert_close(m(x), _reference(x, a))


def test_identity_at_init_and_known_transforms():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 7, 11)
    m = cvattn.create("stn", channels=4)
    torch.testing.assert_close(m(x), x)
    # a horizontal flip (x_s = -x_t) reverses the columns exactly
    with torch.no_grad():
        m.regress.bias.copy_(torch.tensor([-1.0, 0, 0, 0, 1, 0]))
    torch.testing.assert_close(m(x), x.flip(-1))
    # a 90-degree rotation of a square map: V[i, j] = U[j, W - 1 - i]
    sq = torch.randn(1, 4, 6, 6)
    c, s = math.cos(math.pi / 2), math.sin(math.pi / 2)
    with torch.no_grad():
        m.regress.bias.copy_(torch.tensor([c, -s, 0, s, c, 0]))
    torch.testing.assert_close(m(sq), sq.flip(-1).transpose(-1, -2), atol=1e-5, rtol=1e-5)
    # sampling entirely outside the map gives zeros
    with torch.no_grad():
        m.regress.bias.copy_(torch.tensor([1.0, 0, 5, 0, 1, 0]))
    assert m(x).abs().max() == 0


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        cvattn.create("stn", channels=4, transform="tps")
    with pytest.raises(ValueError):
        cvattn.create("stn", channels=4, pool_size=0)
