import torch

import cvattn


def _count(c, h, k, rpb=True):
    n = 3 * c * c + 3 * c  # qkv with bias
    n += h * (2 * k - 1) ** 2 if rpb else 0  # relative position bias table
    n += c * c + c  # proj
    return n


def test_parameter_count_closed_form():
    for c, h, k, rpb in [(64, 2, 7, True), (96, 3, 5, False)]:
        m = cvattn.create("nat", channels=c, num_heads=h, kernel_size=k, rel_pos_bias=rpb)
        assert sum(p.numel() for p in m.parameters()) == _count(c, h, k, rpb)


def _reference(m, x):
    """Neighborhood attention from the paper's definition, one query at a time (NATTEN's border rule)."""
    n, c, hh, ww = x.shape
    h, k = m.num_heads, m.kernel_size
    d = c // h
    hp, wp = max(hh, k), max(ww, k)
    xp = torch.zeros(n, c, hp, wp, dtype=x.dtype)
    xp[:, :, :hh, :ww] = x  # maps smaller than K are zero-padded at the bottom/right
    qkv = torch.einsum("oc,nchw->nohw", m.qkv.weight, xp) + m.qkv.bias[None, :, None, None]
    q, key, v = (t.reshape(n, h, d, hp, wp) for t in qkv.split(c, 1))
    out = torch.zeros(n, h, d, hp, wp, dtype=x.dtype)
    for i in range(hp):
        r0 = min(max(i - k // 2, 0), hp - k)
        for j in range(wp):
            c0 = min(max(j - k // 2, 0), wp - k)
            kw = key[:, :, :, r0 : r0 + k, c0 : c0 + k].reshape(n, h, d, k * k)
            vw = v[:, :, :, r0 : r0 + k, c0 : c0 + k].reshape(n, h, d, k * k)
            logits = torch.einsum("nhd,nhdm->nhm", q[:, :, :, i, j], kw) * m.scale
            if m.rpb is not None:
                b = m.rpb[:, r0 - i + k - 1 : r0 - i + 2 * k - 1, c0 - j + k - 1 : c0 - j + 2 * k - 1]
                logits = logits + b.reshape(h, k * k)
            a = torch.exp(logits - logits.amax(-1, keepdim=True))
            a = a / a.sum(-1, keepdim=True)
            out[:, :, :, i, j] = torch.einsum("nhm,nhdm->nhd", a, vw)
    out = out.reshape(n, c, hp, wp)[:, :, :hh, :ww]
    return torch.einsum("oc,nchw->nohw", m.proj.weight, out) + m.proj.bias[None, :, None, None]


def test_matches_reference_with_borders_and_padding():
    torch.manual_seed(0)
    for shape, k in [((1, 8, 5, 7), 3), ((1, 8, 6, 7), 5), ((1, 8, 3, 4), 5)]:  # the last one needs padding
        m = cvattn.create("nat", channels=8, num_heads=2, kernel_size=k).double().eval()
        with torch.no_grad():
            m.rpb.normal_()
        x = torch.randn(*shape, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_full_neighbourhood_is_global_attention_with_relative_bias():
    # K equal to the map size: every query sees every key, at bias index (key - query + K - 1)
    torch.manual_seed(0)
    m = cvattn.create("nat", channels=8, num_heads=2, kernel_size=5).double().eval()
    with torch.no_grad():
        m.rpb.normal_()
    x = torch.randn(1, 8, 5, 5, dtype=torch.float64)
    t = x.flatten(2).transpose(1, 2)
    q, key, v = (t @ m.qkv.weight.T + m.qkv.bias).reshape(1, 25, 3, 2, 4).permute(2, 0, 3, 1, 4)
    pos = torch.stack(torch.meshgrid(torch.arange(5), torch.arange(5), indexing="ij"), -1).reshape(25, 2)
    rel = pos[None, :, :] - pos[:, None, :] + 4  # (query, key, 2)
    bias = m.rpb[:, rel[..., 0], rel[..., 1]]
    a = torch.softmax(q @ key.transpose(-2, -1) * m.scale + bias, -1)
    y = (a @ v).transpose(1, 2).reshape(1, 25, 8) @ m.proj.weight.T + m.proj.bias
    torch.testing.assert_close(m(x), y.transpose(1, 2).reshape(1, 8, 5, 5))
