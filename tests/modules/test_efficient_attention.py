import torch

import cvattn


def test_parameter_count_closed_form():
    for c, heads in [(64, 1), (96, 4)]:
        dk = dv = c // 2
        m = cvattn.create("efficient-attention", channels=c, heads=heads)
        assert sum(p.numel() for p in m.parameters()) == 2 * (c * dk + dk) + (c * dv + dv) + (dv * c + c)


def test_equals_its_reordered_quadratic_form():
    """rho_q(Q)(rho_k(K)^T V) equals (rho_q(Q)^T rho_k(K)) V, computed here per position with loops."""
    m = cvattn.create("efficient-attention", channels=8, heads=2).double()
    x = torch.randn(1, 8, 3, 3, dtype=torch.float64)

    def conv(layer):
        return torch.einsum("oc,nchw->nohw", layer.weight[:, :, 0, 0], x)[0].flatten(1) + layer.bias[:, None]

    K, Q, V = conv(m.keys), conv(m.queries), conv(m.values)
    out = torch.zeros(4, 9, dtype=torch.float64)
    for h in range(2):
        k = K[2 * h : 2 * h + 2].softmax(1)
        q = Q[2 * h : 2 * h + 2].softmax(0)
        torch.testing.assert_close(q.sum(0), torch.ones(9, dtype=torch.float64))
        for i in range(9):
            weights = torch.stack(
                [q[:, i] @ k[:, j] for j in range(9)]
            )  # quadratic form, one query at a time
            out[2 * h : 2 * h + 2, i] = sum(weights[j] * V[2 * h : 2 * h + 2, j] for j in range(9))
    torch.testing.assert_close(m(x), x + m.reprojection(out.reshape(1, 4, 3, 3)))
