import math

import torch

import cvattn
from cvattn.attention.fcanet import dct_filters


def test_parameter_count_closed_form():
    for c, r in [(64, 16), (256, 8)]:
        m = cvattn.create("fcanet", channels=c, reduction=r)
        assert sum(p.numel() for p in m.parameters()) == 2 * c * (c // r)


def test_lowest_frequency_is_global_average_pooling():
    f = dct_filters(16, 7, 1)  # every channel gets frequency (0, 0)
    torch.testing.assert_close(f[0], torch.full((7, 7), 1 / 7))  # sum(x)/7 = 7 * mean(x)


def test_dct_basis_is_orthonormal():
    basis = torch.stack([dct_filters(1, 7, 1)[0].flatten()])
    assert math.isclose(basis.square().sum().item(), 1.0, rel_tol=1e-6)
    f = dct_filters(32, 7, 32)  # 32 distinct top frequencies, one channel each
    gram = f.flatten(1) @ f.flatten(1).T
    torch.testing.assert_close(gram, torch.eye(32), atol=1e-5, rtol=0)


def test_gate_matches_explicit_dct_loop():
    m = cvattn.create("fcanet", channels=32, num_freq=16).double().eval()
    x = torch.randn(2, 32, 7, 7, dtype=torch.float64)
    # channel c in group c // 2 uses the (u, v) frequency; compute the 2-D DCT coefficient by a loop
    from cvattn.attention.fcanet import TOP_X, TOP_Y

    freq = torch.empty(2, 32, dtype=torch.float64)
    for c in range(32):
        u, v = TOP_X[c // 2], TOP_Y[c // 2]
        total = 0.0
        for i in range(7):
            for j in range(7):
                bu = math.cos(math.pi * u * (i + 0.5) / 7) / math.sqrt(7) * (math.sqrt(2) if u else 1)
                bv = math.cos(math.pi * v * (j + 0.5) / 7) / math.sqrt(7) * (math.sqrt(2) if v else 1)
                total = total + x[:, c, i, j] * bu * bv
        freq[:, c] = total
    w1, w2 = m.fc[0].weight, m.fc[2].weight
    gate = torch.sigmoid(torch.relu(freq @ w1.T) @ w2.T)
    torch.testing.assert_close(m(x), x * gate[:, :, None, None], atol=1e-6, rtol=1e-6)
