import pytest
import torch

import cvattn


def _count(c, cg, compatibility):
    n = c * cg + cg if c != cg else 0  # 1x1 projection of the local features to the global width
    if compatibility == "pc":
        n += cg  # u, no bias
    return n


def test_parameter_count_closed_form():
    for c, cg, comp in [(64, 64, "pc"), (32, 48, "pc"), (32, 48, "dp"), (16, 16, "dp")]:
        m = cvattn.create("learn-to-pay-attention", channels=c, global_channels=cg, compatibility=comp)
        assert sum(p.numel() for p in m.parameters()) == _count(c, cg, comp)


def _reference(m, x, g, compatibility):
    n, c, h, w = x.shape
    if m.channels != m.global_channels:
        local = torch.einsum("nchw,dc->ndhw", x, m.project.weight[:, :, 0, 0])
        local = local + m.project.bias[None, :, None, None]
    else:
        local = x
    local = local.reshape(n, -1, h * w)  # (N, C_g, HW): column i is l_i
    if compatibility == "pc":
        u = m.u.weight[0]
        scores = torch.einsum("d,ndi->ni", u, local + g[:, :, None])  # <u, l_i + g>
    else:
        scores = torch.einsum("ndi,nd->ni", local, g)  # <l_i, g>
    e = torch.exp(scores - scores.max(dim=1, keepdim=True).values)
    a = e / e.sum(dim=1, keepdim=True)
    return torch.einsum("ni,ndi->nd", a, local), a.reshape(n, 1, h, w)


@pytest.mark.parametrize(("c", "cg", "comp"), [(8, 8, "pc"), (6, 10, "pc"), (8, 8, "dp"), (6, 10, "dp")])
def test_matches_reference_on_non_square_input(c, cg, comp):
    torch.manual_seed(0)
    m = cvattn.create("learn-to-pay-attention", channels=c, global_channels=cg, compatibility=comp).double()
    x = torch.randn(2, c, 5, 7, dtype=torch.float64)
    g = torch.randn(2, cg, dtype=torch.float64)
    g_a, a = _reference(m, x, g, comp)
    torch.testing.assert_close(m(x, g), g_a)
    torch.testing.assert_close(m.coefficients(x, g), a)
    torch.testing.assert_close(m(x, g[:, :, None, None]), g_a)


def test_pc_weights_do_not_depend_on_g_but_dp_weights_do():
    torch.manual_seed(0)
    x, g1, g2 = torch.randn(2, 16, 6, 5), torch.randn(2, 16), torch.randn(2, 16)
    pc = cvattn.create("learn-to-pay-attention", channels=16, global_channels=16, compatibility="pc")
    dp = cvattn.create("learn-to-pay-attention", channels=16, global_channels=16, compatibility="dp")
    torch.testing.assert_close(pc(x, g1), pc(x, g2))  # <u, g> is the same at every position
    assert not torch.allclose(dp(x, g1), dp(x, g2))
    a = dp.coefficients(x, g1)
    torch.testing.assert_close(a.sum((2, 3)), torch.ones(2, 1))


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        cvattn.create("learn-to-pay-attention", channels=16, compatibility="cosine")
    m = cvattn.create("learn-to-pay-attention", channels=16, global_channels=16)
    with pytest.raises(ValueError, match="expected"):
        m(torch.randn(2, 16, 4, 4), torch.randn(2, 8))
