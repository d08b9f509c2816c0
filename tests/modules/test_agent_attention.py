import math

import torch

import cvattn


def _count(c, h, n, res, qkv_bias=True, k=3):
    linear = 3 * c * c + (3 * c if qkv_bias else 0) + c * c + c  # qkv and proj
    dwc = k * k * c + c
    biases = h * n * (2 * 49 + 2 * res[0] + 2 * res[1])  # two 7x7 block biases, row and column biases
    return linear + dwc + biases


def test_parameter_count_closed_form():
    for kw, (c, h, n, res, bias) in [
        ({"channels": 64, "num_heads": 4, "resolution": 14, "agent_num": 49}, (64, 4, 49, (14, 14), True)),
        (
            {"channels": 96, "num_heads": 3, "resolution": (56, 40), "agent_num": 9, "qkv_bias": False},
            (96, 3, 9, (56, 40), False),
        ),
    ]:
        m = cvattn.create("agent-attention", **kw)
        assert sum(p.numel() for p in m.parameters()) == _count(c, h, n, res, bias)


def _resize_matrix(n_in, n_out):
    """Bilinear resampling along one axis with half-pixel centres (align_corners=False), as a matrix."""
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(n_out):
        src = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = min(int(math.floor(src)), n_in - 1)
        i1 = min(i0 + 1, n_in - 1)
        lam = src - i0
        m[i, i0] += 1 - lam
        m[i, i1] += lam
    return m


def _resize(t, size):
    """Resize the last two axes of ``t`` to ``size``."""
    mh, mw = _resize_matrix(t.shape[-2], size[0]), _resize_matrix(t.shape[-1], size[1])
    return torch.einsum("ia,...ab,jb->...ij", mh, t, mw)


def _pool_matrix(n_in, n_out):
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(n_out):
        start, end = (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)
        m[i, start:end] = 1.0 / (end - start)
    return m


def _softmax(z):
    z = z - z.max(-1, keepdim=True).values
    e = z.exp()
    return e / e.sum(-1, keepdim=True)


def _reference(m, x):
    n, c, hh, ww = x.shape
    h, d = m.num_heads, c // m.num_heads
    p, (ah, aw) = m.pool_size, m.agent_shape
    t = x.flatten(2).transpose(1, 2)  # (N, L, C)
    qkv = t @ m.qkv.weight.T + m.qkv.bias
    q, k, v = qkv[..., :c], qkv[..., c : 2 * c], qkv[..., 2 * c :]
    qmap = q.transpose(1, 2).reshape(n, c, hh, ww)
    agents = torch.einsum("ai,ncij,bj->nabc", _pool_matrix(hh, ah), qmap, _pool_matrix(ww, aw)).reshape(
        n, -1, c
    )

    def heads(z):
        return z.reshape(n, z.shape[1], h, d).transpose(1, 2)

    def bias(block, rows_cols):  # (h, n, *, *) each -> (h, L, agents)
        b = _resize(block, (hh, ww)) + _resize(rows_cols, (hh, ww))  # (h, p*p, H, W)
        b = b.reshape(h, p, p, hh * ww).permute(0, 3, 1, 2)  # (h, L, p, p)
        return _resize(b, (ah, aw)).reshape(h, hh * ww, ah * aw)

    b1 = bias(m.an_bias, (m.ah_bias + m.aw_bias)[0]).transpose(1, 2)  # (h, agents, L)
    b2 = bias(m.na_bias, (m.ha_bias + m.wa_bias)[0].permute(0, 3, 1, 2))  # (h, L, agents)
    qh, kh, vh, a = heads(q), heads(k), heads(v), heads(agents)
    agent_v = _softmax(torch.einsum("nhad,nhld->nhal", a, kh) / math.sqrt(d) + b1) @ vh
    o = _softmax(torch.einsum("nhld,nhad->nhla", qh, a) / math.sqrt(d) + b2) @ agent_v
    o = o.transpose(1, 2).reshape(n, hh * ww, c)
    vmap = v.transpose(1, 2).reshape(n, c, hh, ww)
    dwc = torch.nn.functional.conv2d(vmap, m.dwc.weight, m.dwc.bias, padding=1, groups=c)
    y = (o + dwc.flatten(2).transpose(1, 2)) @ m.proj.weight.T + m.proj.bias
    return y.transpose(1, 2).reshape(n, c, hh, ww)


def test_matches_reference_with_resized_biases_and_agent_grid():
    torch.manual_seed(0)
    x = torch.randn(2, 12, 5, 9, dtype=torch.float64)
    for kw in ({"resolution": (4, 6), "agent_num": 9, "agent_shape": (2, 3)}, {"resolution": (5, 9)}):
        m = cvattn.create("agent-attention", channels=12, num_heads=3, **kw).double().eval()
        with torch.no_grad():
            for p in (m.an_bias, m.na_bias, m.ah_bias, m.aw_bias, m.ha_bias, m.wa_bias):
                p.normal_()  # biases of the size of the logits, so that a wrong layout shows
        torch.testing.assert_close(m(x), _reference(m, x))


def test_single_agent_broadcasts_one_vector():
    # with one agent every pixel attends to it with weight 1, so without the DWC term the output is constant
    torch.manual_seed(0)
    m = cvattn.create("agent-attention", channels=8, num_heads=2, resolution=6, agent_num=1).double().eval()
    with torch.no_grad():
        m.dwc.weight.zero_()
        m.dwc.bias.zero_()
        y = m(torch.randn(1, 8, 7, 5, dtype=torch.float64))
    torch.testing.assert_close(y, y[:, :, :1, :1].expand_as(y))
