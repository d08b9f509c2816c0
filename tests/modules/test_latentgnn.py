import pytest
import torch

import cvattn


def _count(c, dims, stride, symmetric, graph_conv):
    ci = c // stride
    branches = 1 if symmetric else 2
    n = branches * (c * ci + 2 * ci)  # channel reductions: 1x1 conv (no bias) + BatchNorm
    for d in dims:
        n += branches * (ci * d + 2 * d)  # adjacency maps psi: 1x1 conv + BatchNorm
        if graph_conv:
            n += ci * ci + 2 * ci
    n += len(dims) * ci * c + 2 * c  # up_channel: 1x1 conv + BatchNorm
    return n + 1  # gamma


@pytest.mark.parametrize(
    "c, dims, stride, mode, graph_conv",
    [(64, (100, 100), 4, "asymmetric", False), (48, (10,), 8, "symmetric", True)],
)
def test_parameter_count_closed_form(c, dims, stride, mode, graph_conv):
    m = cvattn.create(
        "latentgnn", channels=c, latent_dims=dims, channel_stride=stride, mode=mode, graph_conv=graph_conv
    )
    assert sum(p.numel() for p in m.parameters()) == _count(c, dims, stride, mode == "symmetric", graph_conv)


def _conv_bn(block, x, relu):
    y = torch.einsum("oc,nchw->nohw", block.conv.weight[:, :, 0, 0], x)
    bn = block.bn
    y = (y - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    y = y * bn.weight[:, None, None] + bn.bias[:, None, None]
    return y.clamp(min=0) if relu else y


def _l2(t, dim):
    return t / t.norm(dim=dim, keepdim=True).clamp(min=1e-12)


def _reference(m, x):
    """The paper's three steps written with explicit sums, from the module's weights (eval mode)."""
    n, c, h, w = x.shape
    sym = m.mode == "symmetric"
    xv = _l2(_conv_bn(m.down_channel if sym else m.down_channel_v2l, x, False), 1).flatten(2)  # (N, C', L)
    xl = xv if sym else _l2(_conv_bn(m.down_channel_l2v, x, False), 1).flatten(2)
    outs = []
    for k in m.kernels:
        if sym:
            a_in = a_out = _l2(_conv_bn(k.psi, xv.reshape(n, -1, h, w), True).flatten(2), 1)
        else:
            a_in = _l2(_conv_bn(k.psi_v2l, xv.reshape(n, -1, h, w), True).flatten(2), 2)  # (N, D, L)
            a_out = _l2(_conv_bn(k.psi_l2v, xl.reshape(n, -1, h, w), True).flatten(2), 1)
        z = torch.einsum("ndl,ncl->ndc", a_in, xv)  # visible -> latent
        zn = _l2(z, 2)
        logits = torch.einsum("ndc,nec->nde", zn, zn)
        aff = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)
        z = torch.einsum("nde,nec->ndc", aff, z)  # latent -> latent
        y = torch.einsum("ndc,ndl->ncl", z, a_out).reshape(n, -1, h, w)  # latent -> visible
        if k.graph_conv is not None:
            y = _conv_bn(k.graph_conv, y, True)
        outs.append(y)
    y = _conv_bn(m.up_channel, torch.cat(outs, 1), False)
    return x + m.gamma * y


@pytest.mark.parametrize("mode, graph_conv", [("asymmetric", False), ("symmetric", True)])
def test_matches_reference(mode, graph_conv):
    torch.manual_seed(0)
    m = cvattn.create(
        "latentgnn", channels=16, latent_dims=(6, 5), channel_stride=4, mode=mode, graph_conv=graph_conv
    )
    m = m.double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(
                0.1 * torch.randn_like(p)
            )  # perturb so BatchNorm and gamma are not at their identity values
        for b in m.buffers():
            if b.is_floating_point():
                b.add_(0.1 * torch.rand_like(b))
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_zero_init_is_identity_and_no_residual_returns_branch():
    x = torch.randn(2, 16, 5, 7)
    m = cvattn.create("latentgnn", channels=16, latent_dims=(4,), zero_init=True).eval()
    torch.testing.assert_close(m(x), x)
    m2 = cvattn.create("latentgnn", channels=16, latent_dims=(4,), residual=False).eval()
    m2.load_state_dict(m.state_dict())
    assert not torch.allclose(m2(x), x)


def test_bad_arguments_raise():
    for kwargs in ({"mode": "dense"}, {"channel_stride": 0}, {"channel_stride": 32}, {"latent_dims": ()}):
        with pytest.raises(ValueError):
            cvattn.create("latentgnn", channels=16, **kwargs)
