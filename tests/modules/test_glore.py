import torch

import cvattn


def _count(c, m):
    s = 2 * m
    return (c * s + s) + (c * m + m) + (m * m + m) + s * s + s * c + 2 * c


def test_parameter_count_closed_form():
    for c, m in [(64, None), (48, 10)]:
        mod = cvattn.create("glore", channels=c, num_mid=m)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, c // 4 if m is None else m)


def _reference(mod, x, normalize):
    """The GloRe equations: V = X' B^T, Z = W_g ReLU(V + V A_g^T), Y = Z B, out = x + BN(W_e Y)."""
    n, c, h, w = x.shape
    xf = x.reshape(n, c, h * w)
    xs = torch.einsum("sc,ncl->nsl", mod.conv_state.weight[:, :, 0, 0], xf) + mod.conv_state.bias[:, None]
    b = torch.einsum("mc,ncl->nml", mod.conv_proj.weight[:, :, 0, 0], xf) + mod.conv_proj.bias[:, None]
    v = torch.einsum("nsl,nml->nsm", xs, b)
    if normalize:
        v = v / (h * w)
    a = torch.einsum("ij,nsj->nsi", mod.adjacency.weight, v) + mod.adjacency.bias
    z = torch.einsum("ts,nsm->ntm", mod.state_update.weight[:, :, 0], torch.clamp(v + a, min=0))
    y = torch.einsum("nsm,nml->nsl", z, b)
    e = torch.einsum("cs,nsl->ncl", mod.conv_extend.weight[:, :, 0, 0], y)
    bn = mod.blocker
    e = (e - bn.running_mean[:, None]) / torch.sqrt(bn.running_var[:, None] + 1e-4) * bn.weight[:, None]
    e = e + bn.bias[:, None]
    return x + e.reshape(n, c, h, w)


def test_matches_reference_with_and_without_normalisation():
    torch.manual_seed(0)
    x = torch.randn(2, 12, 5, 7, dtype=torch.float64)
    for normalize in (False, True):
        mod = cvattn.create("glore", channels=12, num_mid=3, normalize=normalize).double().eval()
        with torch.no_grad():
            for p in mod.parameters():
                p.normal_(0, 0.4)
            mod.blocker.running_mean.normal_(0, 0.2)
            mod.blocker.running_var.uniform_(0.5, 1.5)
        assert mod.blocker.eps == 1e-4
        torch.testing.assert_close(mod(x), _reference(mod, x, normalize))


def test_zero_init_starts_as_identity():
    mod = cvattn.create("glore", channels=16, zero_init=True).eval()
    x = torch.randn(2, 16, 4, 6)
    assert torch.count_nonzero(mod.blocker.weight) == 0
    torch.testing.assert_close(mod(x), x)
