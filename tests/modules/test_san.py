import torch
import torch.nn.functional as F

import cvattn


def _count(c, k, s, pairwise):
    r = c // 16
    common = 2 * (c * r + r) + c * c + c
    if pairwise:
        gamma = 2 * (r + 2) + (r + 2) * r + 2 * r + r * (c // s) + c // s
        return common + gamma + 2 * 2 + 2
    w_in, w_out = r * (k * k + 1), c // s
    gamma = 2 * w_in + w_in * w_out + 2 * w_out + w_out * k * k * w_out + k * k * w_out
    return common + gamma


def test_parameter_count_closed_form():
    for c, k in [(64, 7), (128, 3)]:
        for pairwise, id in [(True, "san-pairwise"), (False, "san-patchwise")]:
            m = cvattn.create(id, channels=c, kernel_size=k)
            assert sum(p.numel() for p in m.parameters()) == _count(c, k, 8, pairwise)


def _reflect(i, n):
    return -i if i < 0 else (2 * (n - 1) - i if i >= n else i)


def _aggregate_loops(v, w, k, s):
    """The official CUDA aggregation kernel written as loops."""
    n, c, h, wd = v.shape
    cw = w.shape[1]
    out = torch.zeros_like(v)
    pad = (k - 1) // 2
    for y in range(h):
        for x in range(wd):
            for kh in range(k):
                for kw in range(k):
                    yi, xi = _reflect(y - pad + kh, h), _reflect(x - pad + kw, wd)
                    idx = torch.arange(c) % cw
                    out[:, :, y, x] += w[:, idx, kh * k + kw, y * wd + x] * v[:, :, yi, xi]
    return out


def _bn_eval(t, bn):
    shape = (1, -1, 1, 1)
    return (t - bn.running_mean.view(shape)) / torch.sqrt(
        bn.running_var.view(shape) + bn.eps
    ) * bn.weight.view(shape) + bn.bias.view(shape)


def test_pairwise_matches_loop_reference():
    torch.manual_seed(0)
    m = cvattn.create("san-pairwise", channels=32, kernel_size=3).double().eval()
    x = torch.randn(2, 32, 5, 6, dtype=torch.float64)
    phi, psi, v = m.conv1(x), m.conv2(x), m.conv3(x)
    h, w = 5, 6
    pos = torch.stack(torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")[::-1])
    p = m.conv_p(pos[None].double())
    k, pad = 3, 1
    r = m.rel_channels
    rel = torch.zeros(2, r + 2, k * k, h * w, dtype=torch.float64)
    for y in range(h):
        for xx in range(w):
            for kh in range(k):
                for kw in range(k):
                    yi, xi = _reflect(y - pad + kh, h), _reflect(xx - pad + kw, w)
                    rel[:, :r, kh * k + kw, y * w + xx] = phi[:, :, y, xx] - psi[:, :, yi, xi]
                    rel[:, r:, kh * k + kw, y * w + xx] = p[:, :, y, xx] - p[:, :, yi, xi]
    g = m.conv_w
    z = F.relu(_bn_eval(rel, g[0]))
    z = F.relu(_bn_eval(torch.einsum("oc,nckl->nokl", g[2].weight[:, :, 0, 0], z), g[3]))
    z = torch.einsum("oc,nckl->nokl", g[5].weight[:, :, 0, 0], z) + g[5].bias.view(1, -1, 1, 1)
    alpha = torch.softmax(z, dim=2)
    torch.testing.assert_close(alpha.sum(2), torch.ones_like(alpha.sum(2)))
    torch.testing.assert_close(m(x), _aggregate_loops(v, alpha, k, 8))


def test_patchwise_aggregation_matches_loop_reference():
    torch.manual_seed(1)
    m = cvattn.create("san-patchwise", channels=16, kernel_size=3).double().eval()
    x = torch.randn(1, 16, 4, 5, dtype=torch.float64)
    weights = {}
    m.conv_w.register_forward_hook(lambda mod, inp, out: weights.setdefault("w", out))
    y = m(x)
    alpha = weights["w"].reshape(1, 16 // 8, 9, 20)
    torch.testing.assert_close(y, _aggregate_loops(m.conv3(x), alpha, 3, 8))
    # the patch fed to gamma is the reflect-padded 3x3 neighbourhood of psi, in (channel, position) order
    psi = m.conv2(x)
    r = m.rel_channels
    feats = {}
    m.conv_w.register_forward_pre_hook(lambda mod, inp: feats.setdefault("f", inp[0]))
    m(x)
    f = feats["f"]
    assert f.shape == (1, r * 10, 1, 20)
    for c in range(r):
        assert torch.equal(
            f[0, r + c * 9 + 0, 0, 0], psi[0, c, 1, 1]
        )  # top-left neighbour of (0, 0) reflects to (1, 1)
        assert torch.equal(f[0, r + c * 9 + 4, 0, 7], psi[0, c, 1, 2])  # centre of pixel 7 = (1, 2)
