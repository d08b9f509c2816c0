import pytest
import torch

import cvattn


def test_parameter_counts_closed_form():
    for c in (64, 128):
        pam = cvattn.create("danet-pam", channels=c)
        assert sum(p.numel() for p in pam.parameters()) == 2 * (c * (c // 8) + c // 8) + (c * c + c) + 1
        assert sum(p.numel() for p in cvattn.create("danet-cam", channels=c).parameters()) == 1


def test_pam_matches_explicit_softmax_attention():
    m = cvattn.create("danet-pam", channels=16).double().eval()
    x = torch.randn(2, 16, 5, 6, dtype=torch.float64)

    def proj(conv):
        return torch.einsum("oc,ncp->nop", conv.weight[:, :, 0, 0], x.flatten(2)) + conv.bias[:, None]

    b, c, d = proj(m.query), proj(m.key), proj(m.value)
    s = torch.softmax(torch.einsum("nci,ncj->nij", b, c), -1)  # S_ij, unscaled
    torch.testing.assert_close(s.sum(-1), torch.ones(2, 30, dtype=torch.float64))
    e = torch.einsum("ncj,nij->nci", d, s).reshape(x.shape)
    torch.testing.assert_close(m(x), m.gamma * e + x)


def test_cam_matches_explicit_channel_attention():
    m = cvattn.create("danet-cam", channels=8).double()
    x = torch.randn(2, 8, 4, 5, dtype=torch.float64)
    X = x.flatten(2)
    a = torch.einsum("nip,njp->nij", X, X)
    a = a.amax(-1, keepdim=True) - a
    s = a.exp() / a.exp().sum(-1, keepdim=True)
    torch.testing.assert_close(m(x), m.gamma * torch.einsum("nij,njp->nip", s, X).reshape(x.shape) + x)


def test_zero_init_is_identity():
    x = torch.randn(1, 16, 4, 4)
    for id in ("danet-pam", "danet-cam"):
        torch.testing.assert_close(cvattn.create(id, channels=16, zero_init=True)(x), x)


@pytest.mark.parametrize("c,hw", [(8, 20), (20, 8)])  # gamma on the C x C map, then on the C x HW product
def test_scaled_product_is_gamma_times_the_product_either_way(c, hw):
    from cvattn.attention.danet import scaled_product

    gamma = torch.tensor([0.3], dtype=torch.float64)
    attn, v = torch.rand(2, c, c, dtype=torch.float64), torch.randn(2, c, hw, dtype=torch.float64)
    expected = 0.3 * torch.einsum("nij,njk->nik", attn, v)
    torch.testing.assert_close(scaled_product(gamma, attn, v), expected)
