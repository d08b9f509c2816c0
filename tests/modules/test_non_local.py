import pytest
import torch
import torch.nn.functional as F

import cvattn

IDS = {
    "non-local": "embedded_gaussian",
    "non-local-gaussian": "gaussian",
    "non-local-dot-product": "dot_product",
    "non-local-concatenation": "concatenation",
}


def closed_form(c, ci, mode):
    def conv(i, o, bias=True):
        return i * o + (o if bias else 0)

    n = conv(c, ci)  # g
    if mode != "gaussian":
        n += 2 * conv(c, ci)  # theta, phi
    if mode == "concatenation":
        n += 2 * ci
    return n + conv(ci, c) + 2 * c  # W_z and BatchNorm


@pytest.mark.parametrize("id", IDS)
def test_parameter_count_closed_form(id):
    for c in (64, 96):
        m = cvattn.create(id, channels=c)
        assert sum(p.numel() for p in m.parameters()) == closed_form(c, c // 2, IDS[id])


def reference(m, x):
    """softmax(s.QK^T)V and the other pairwise functions written out with einsum, in float64."""
    kv = F.max_pool2d(x, 2)
    g = torch.einsum("oc,nchw->nhwo", m.g.weight[:, :, 0, 0], kv).flatten(1, 2) + m.g.bias
    if m.mode == "gaussian":
        q, k = x.flatten(2).transpose(1, 2), kv.flatten(2).transpose(1, 2)
    else:
        q = torch.einsum("oc,nchw->nhwo", m.theta.weight[:, :, 0, 0], x).flatten(1, 2) + m.theta.bias
        k = torch.einsum("oc,nchw->nhwo", m.phi.weight[:, :, 0, 0], kv).flatten(1, 2) + m.phi.bias
    logits = torch.einsum("nid,njd->nij", q, k)
    if m.mode == "embedded_gaussian":
        f = torch.softmax(logits * m.inter_channels**-0.5, -1)
        torch.testing.assert_close(f.sum(-1), torch.ones_like(f.sum(-1)))  # rows sum to one
    elif m.mode == "gaussian":
        f = torch.softmax(logits, -1)
    elif m.mode == "dot_product":
        f = logits / k.shape[1]
    else:
        w = m.concat_project.weight.flatten()
        ci = m.inter_channels
        pairs = torch.cat(
            [
                q[:, :, None, :].expand(-1, -1, k.shape[1], -1),
                k[:, None, :, :].expand(-1, q.shape[1], -1, -1),
            ],
            -1,
        )
        f = F.relu(pairs @ torch.cat([w[:ci], w[ci:]])) / k.shape[1]
    y = torch.einsum("nij,njd->nid", f, g)
    y = y.transpose(1, 2).reshape(x.shape[0], m.inter_channels, *x.shape[2:])
    return m.bn(m.w_z(y)) + x


@pytest.mark.parametrize("id", IDS)
def test_matches_explicit_formula(id):
    m = cvattn.create(id, channels=16).double().eval()
    torch.nn.init.normal_(m.bn.weight)
    torch.nn.init.normal_(m.bn.running_mean)
    x = torch.randn(2, 16, 6, 10, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(m(x), reference(m, x))


def test_zero_init_starts_as_identity():
    m = cvattn.create("non-local", channels=16, zero_init=True).eval()
    x = torch.randn(1, 16, 8, 8)
    torch.testing.assert_close(m(x), x)


def test_flops_grow_quadratically_with_positions():
    from torch.utils.flop_counter import FlopCounterMode

    m = cvattn.create("non-local-dot-product", channels=8, sub_sample=False).eval()
    counts = []
    for r in (8, 16):
        with FlopCounterMode(display=False) as fc:
            m(torch.randn(1, 8, r, r))
        counts.append(fc.get_total_flops())
    assert counts[1] / counts[0] > 12  # 4x the positions: the (HW)^2 affinity dominates
