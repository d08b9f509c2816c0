import torch
import torch.nn.functional as F

import cvattn


def _count(c, heads, d, scales, bias):
    t = heads * d
    n = c * 3 * t + (3 * t if bias else 0)  # qkv 1x1
    for s in scales:  # depthwise s x s, then 1x1 grouped by the 3*heads q/k/v groups of d channels
        n += 3 * t * s * s + 3 * t * d + (6 * t if bias else 0)
    n += t * (1 + len(scales)) * c + (c if bias else 0) + 2 * c  # projection + BatchNorm
    return n


def test_parameter_count_closed_form():
    for c, heads, d, scales, bias in [(64, 4, 16, (5,), False), (48, 2, 8, (3, 5), True)]:
        m = cvattn.create("efficientvit", channels=c, heads=heads, dim=d, scales=scales, use_bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, d, scales, bias)
    assert cvattn.create("efficientvit", channels=64, dim=16).heads == 4  # heads = C // dim


def _reference(m, x):
    n, c, hh, ww = x.shape
    d = m.dim
    qkv = F.conv2d(x, m.qkv.conv.weight)
    branches = [qkv]
    for agg in m.aggreg:
        dw, pw = agg[0], agg[1]
        y = F.conv2d(qkv, dw.weight, padding=dw.kernel_size[0] // 2, groups=dw.groups)
        branches.append(F.conv2d(y, pw.weight, groups=pw.groups))
    qkv = torch.cat(branches, 1)
    groups = qkv.shape[1] // (3 * d)
    outs = []
    for g in range(groups):
        blk = qkv[:, g * 3 * d : (g + 1) * 3 * d].flatten(2)  # (N, 3d, L)
        q, k, v = torch.relu(blk[:, :d]), torch.relu(blk[:, d : 2 * d]), blk[:, 2 * d :]
        sim = torch.einsum("ndi,ndj->nij", q, k)  # (N, L_query, L_key), non-negative
        attn = sim / (sim.sum(-1, keepdim=True) + m.eps)
        outs.append(torch.einsum("nij,ndj->ndi", attn, v))
    out = torch.cat(outs, 1).reshape(n, -1, hh, ww)
    out = F.conv2d(out, m.proj.conv.weight)
    bn = m.proj.bn
    return F.batch_norm(out, bn.running_mean, bn.running_var, bn.weight, bn.bias, False, 0.0, bn.eps)


def test_matches_quadratic_reference():
    torch.manual_seed(0)
    x = torch.randn(2, 24, 7, 5, dtype=torch.float64)
    m = cvattn.create("efficientvit", channels=24, heads=3, dim=4, scales=(3, 5)).double().eval()
    with torch.no_grad():
        m.proj.bn.running_mean.uniform_(-0.5, 0.5)
        m.proj.bn.running_var.uniform_(0.5, 1.5)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_without_multiscale_branches_it_is_permutation_equivariant():
    # only 1x1 convolutions and global attention remain: shuffling the pixels shuffles the output
    torch.manual_seed(1)
    m = cvattn.create("efficientvit", channels=16, dim=4, scales=()).double().eval()
    x = torch.randn(1, 16, 4, 6, dtype=torch.float64)
    perm = torch.randperm(24)
    shuffled = x.flatten(2)[..., perm].reshape_as(x)
    torch.testing.assert_close(m(shuffled), m(x).flatten(2)[..., perm].reshape_as(x))
