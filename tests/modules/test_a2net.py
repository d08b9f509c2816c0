import torch

import cvattn


def test_parameter_count_closed_form():
    for c in (64, 128):
        cm = cn = c // 4
        m = cvattn.create("a2net", channels=c)
        assert sum(p.numel() for p in m.parameters()) == (c * cm + cm) + 2 * (c * cn + cn) + (cm * c + c)


def test_gather_distribute_matches_loops():
    m = cvattn.create("a2net", channels=8, c_m=3, c_n=2).double()
    x = torch.randn(1, 8, 3, 4, dtype=torch.float64)

    def conv(layer):
        return torch.einsum("oc,nchw->nohw", layer.weight[:, :, 0, 0], x) + layer.bias[:, None, None]

    A, B, V = conv(m.phi)[0].flatten(1), conv(m.theta)[0].flatten(1), conv(m.rho)[0].flatten(1)
    B = B.exp() / B.exp().sum(1, keepdim=True)
    V = V.exp() / V.exp().sum(0, keepdim=True)
    torch.testing.assert_close(B.sum(1), torch.ones(2, dtype=torch.float64))
    G = torch.stack([torch.stack([(A[i] * B[j]).sum() for j in range(2)]) for i in range(3)])
    Z = torch.stack([sum(G[:, j] * V[j, p] for j in range(2)) for p in range(12)], 1).reshape(1, 3, 3, 4)
    torch.testing.assert_close(m(x), x + m.w_z(Z))
