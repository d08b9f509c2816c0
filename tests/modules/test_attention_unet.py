import torch

import cvattn


def _count(c, cg, ci, s):
    n = c * ci * s * s  # W_x: s x s conv, no bias
    n += cg * ci + ci  # W_g: 1x1 conv with bias b_g
    n += ci + 1  # psi: 1x1 conv to one channel with bias b_psi
    n += c * c + c + 2 * c  # output 1x1 conv with bias + batch norm
    return n


def test_parameter_count_closed_form():
    for c, cg, ci, s in [(32, 64, None, 2), (24, 40, 10, 3)]:
        m = cvattn.create(
            "attention-unet-gate", channels=c, gating_channels=cg, inter_channels=ci, sub_sample_factor=s
        )
        assert sum(p.numel() for p in m.parameters()) == _count(c, cg, ci or c // 2, s)


def _resize_bilinear(x, size):
    """Bilinear resize with half-pixel centres (align_corners=False), by explicit indices and weights."""

    def axis(n_in, n_out):
        src = ((torch.arange(n_out, dtype=torch.float64) + 0.5) * (n_in / n_out) - 0.5).clamp(min=0)
        i0 = src.floor().long().clamp(max=n_in - 1)
        i1 = (i0 + 1).clamp(max=n_in - 1)
        return i0, i1, src - i0

    (h0, h1, dh), (w0, w1, dw) = axis(x.shape[2], size[0]), axis(x.shape[3], size[1])
    top = x[:, :, h0][..., w0] * (1 - dw) + x[:, :, h0][..., w1] * dw
    bottom = x[:, :, h1][..., w0] * (1 - dw) + x[:, :, h1][..., w1] * dw
    return top * (1 - dh[:, None]) + bottom * dh[:, None]


def _reference(m, x, g, s):
    n, c, h, w = x.shape
    hs, ws = h // s, w // s
    # W_x: non-overlapping s x s patches (the remainder rows/columns are dropped, as by a strided conv)
    patches = x[:, :, : hs * s, : ws * s].reshape(n, c, hs, s, ws, s)
    theta = torch.einsum("ncaibj,kcij->nkab", patches, m.theta.weight)
    phi = torch.einsum("nchw,kc->nkhw", g, m.phi.weight[:, :, 0, 0]) + m.phi.bias[None, :, None, None]
    f = torch.relu(theta + _resize_bilinear(phi, (hs, ws)))
    q = torch.einsum("nkhw,k->nhw", f, m.psi.weight[0, :, 0, 0])[:, None] + m.psi.bias
    alpha = _resize_bilinear(1 / (1 + torch.exp(-q)), (h, w))
    y = torch.einsum("nchw,dc->ndhw", alpha * x, m.proj.conv.weight[:, :, 0, 0])
    y = y + m.proj.conv.bias[None, :, None, None]
    bn = m.proj.bn
    return (y - bn.running_mean[None, :, None, None]) / torch.sqrt(bn.running_var + bn.eps)[
        None, :, None, None
    ] * bn.weight[None, :, None, None] + bn.bias[None, :, None, None]


def test_matches_reference_on_non_square_input():
    torch.manual_seed(0)
    for s, size, gsize in [(2, (9, 7), (4, 3)), (3, (10, 13), (2, 6))]:
        m = cvattn.create("attention-unet-gate", channels=6, gating_channels=10, sub_sample_factor=s).double()
        with torch.no_grad():
            for p in m.parameters():
                p.normal_()
            m.proj.bn.running_mean.normal_()
            m.proj.bn.running_var.uniform_(0.5, 2.0)
        m.eval()
        x = torch.randn(2, 6, *size, dtype=torch.float64)
        g = torch.randn(2, 10, *gsize, dtype=torch.float64)
        torch.testing.assert_close(m(x, g), _reference(m, x, g, s))


def test_uniform_score_gives_uniform_gate():
    torch.manual_seed(0)
    m = cvattn.create("attention-unet-gate", channels=8, gating_channels=16).eval()
    with torch.no_grad():
        m.psi.weight.zero_()
        m.psi.bias.fill_(0.3)
    x, g = torch.randn(2, 8, 7, 9), torch.randn(2, 16, 3, 4)
    alpha = m.coefficients(x, g)
    assert alpha.shape == (2, 1, 7, 9)
    torch.testing.assert_close(alpha, torch.full_like(alpha, torch.sigmoid(torch.tensor(0.3)).item()))
    torch.testing.assert_close(m(x, g), m.proj(alpha * x))
