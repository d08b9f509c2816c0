import torch
import torch.nn.functional as F

import cvattn


def _count(c, order, kernel=7):
    dims = [c // 2 ** (order - 1 - k) for k in range(order)]  # C_0 .. C_(n-1)
    s = sum(dims)
    n = 2 * c * c + 2 * c  # phi_in with bias
    n += s * kernel * kernel + s  # depthwise conv with bias
    n += c * c + c  # phi_out with bias
    n += sum(dims[k] * dims[k + 1] + dims[k + 1] for k in range(order - 1))  # g_k with bias
    return n


def test_parameter_count_closed_form():
    for c, order in [(64, 5), (96, 3)]:
        m = cvattn.create("hornet", channels=c, order=order)
        assert sum(p.numel() for p in m.parameters()) == _count(c, order)


def _reference(m, x, scale):
    """Eq. of the paper: p_1 = f(q_0) * p_0, p_(k+1) = f(q_k) * g_k(p_k), y = phi_out(p_n), written channel-wise."""
    c, n = m.channels, m.order
    dims = [c // 2 ** (n - 1 - k) for k in range(n)]
    proj = (
        torch.einsum("oc,nchw->nohw", m.proj_in.weight[:, :, 0, 0], x) + m.proj_in.bias[None, :, None, None]
    )
    p, q = proj[:, : dims[0]], proj[:, dims[0] :]
    # depthwise conv, one channel at a time
    kk = m.dwconv.weight.shape[-1]
    qpad = F.pad(q, (kk // 2,) * 4)
    fq = torch.zeros_like(q)
    for ch in range(q.shape[1]):
        for di in range(kk):
            for dj in range(kk):
                fq[:, ch] += (
                    m.dwconv.weight[ch, 0, di, dj] * qpad[:, ch, di : di + x.shape[2], dj : dj + x.shape[3]]
                )
        fq[:, ch] += m.dwconv.bias[ch]
    fq = fq * scale
    starts = [sum(dims[:k]) for k in range(n)]
    p = p * fq[:, starts[0] : starts[0] + dims[0]]
    for k in range(1, n):
        g = m.pws[k - 1]
        p = torch.einsum("oc,nchw->nohw", g.weight[:, :, 0, 0], p) + g.bias[None, :, None, None]
        p = p * fq[:, starts[k] : starts[k] + dims[k]]
    return (
        torch.einsum("oc,nchw->nohw", m.proj_out.weight[:, :, 0, 0], p) + m.proj_out.bias[None, :, None, None]
    )


def test_matches_reference():
    torch.manual_seed(0)
    for order, scale in [(3, 1.0 / 3.0), (1, 1.0)]:
        m = cvattn.create("hornet", channels=8, order=order, scale=scale).double().eval()
        x = torch.randn(2, 8, 5, 9, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x, scale))


def test_order_n_output_is_polynomial_of_degree_n_plus_1_in_input():
    # gnConv without biases is homogeneous: y(t x) = t^(n+1) y(x) (p_0 and n gates, each linear in x)
    torch.manual_seed(1)
    m = cvattn.create("hornet", channels=8, order=3).double().eval()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.Conv2d):
                mod.bias.zero_()
    x = torch.randn(1, 8, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(m(2.0 * x), 2.0**4 * m(x))
