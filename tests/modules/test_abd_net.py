import pytest
import torch

import cvattn
from cvattn.attention.abd_net import spectral_orthogonality


def test_parameter_counts_closed_form():
    for c in (64, 128):
        pam = cvattn.create("abd-net-pam", channels=c)
        assert sum(p.numel() for p in pam.parameters()) == 2 * (c * (c // 8) + c // 8) + (c * c + c) + 1
        assert sum(p.numel() for p in cvattn.create("abd-net-cam", channels=c).parameters()) == 1


def test_cam_matches_the_paper_channel_affinity_written_out():
    m = cvattn.create("abd-net-cam", channels=6).double()
    x = torch.randn(2, 6, 4, 3, dtype=torch.float64)
    out = torch.empty_like(x)
    for n in range(2):
        a = x[n].reshape(6, -1)
        e = [[float(a[i] @ a[j]) for j in range(6)] for i in range(6)]
        for i in range(6):
            z = [max(e[i]) - e[i][j] for j in range(6)]  # the official max-minus-energy
            w = torch.tensor(z, dtype=torch.float64).exp()
            w = w / w.sum()
            out[n, i] = (m.gamma * sum(w[j] * a[j] for j in range(6)) + a[i]).reshape(4, 3)
    torch.testing.assert_close(m(x), out)


def test_pam_matches_position_loop():
    m = cvattn.create("abd-net-pam", channels=16).double().eval()
    x = torch.randn(1, 16, 3, 2, dtype=torch.float64)
    a = x[0].reshape(16, -1)  # (C, HW)

    def proj(conv):
        return conv.weight[:, :, 0, 0] @ a + conv.bias[:, None]

    b, c, d = proj(m.query), proj(m.key), proj(m.value)
    cols = []
    for j in range(6):  # output position j gathers every position i
        s = torch.stack([b[:, j] @ c[:, i] for i in range(6)]).softmax(0)
        cols.append(sum(s[i] * d[:, i] for i in range(6)))
    want = m.gamma * torch.stack(cols, 1).reshape(1, 16, 3, 2) + x
    torch.testing.assert_close(m(x), want)


def test_zero_init_is_identity():
    x = torch.randn(1, 16, 4, 4)
    for id in ("abd-net-pam", "abd-net-cam"):
        torch.testing.assert_close(cvattn.create(id, channels=16, zero_init=True)(x), x)


def test_spectral_orthogonality():
    q, _ = torch.linalg.qr(torch.randn(7, 4, dtype=torch.float64))
    assert abs(float(spectral_orthogonality(3 * q.T))) < 1e-12  # orthogonal rows of equal norm
    d = torch.zeros(3, 5, dtype=torch.float64)
    d[0, 0], d[1, 1], d[2, 2] = 1.0, 2.0, 4.0
    assert float(spectral_orthogonality(d)) == pytest.approx(16 - 1)
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    got = spectral_orthogonality(x.flatten(2))
    for n in range(2):
        s = torch.linalg.svdvals(x[n].reshape(3, -1))  # eigenvalues of M M^T are the squared singular values
        assert float(got[n]) == pytest.approx(float(s.max() ** 2 - s.min() ** 2))
    with pytest.raises(ValueError, match="expected"):
        spectral_orthogonality(torch.randn(5))
