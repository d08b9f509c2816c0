import math

import torch
import torch.nn.functional as F

import cvattn


def _count(c, h, g, size, k, use_pe=True):
    cg = c // g
    n = 4 * (c * c + c)  # q, k, v, out 1x1 convs
    n += cg * k * k + cg + 2 * cg + 2 * cg  # offset net: depthwise conv, LayerNorm, 1x1 conv to 2 (no bias)
    n += h * (2 * size[0] - 1) * (2 * size[1] - 1) if use_pe else 0  # relative position bias table
    return n


def test_parameter_count_closed_form():
    for c, h, g, size, k, pe in [(384, 12, 3, (14, 14), 5, True), (64, 4, 2, (7, 9), 3, False)]:
        m = cvattn.create(
            "dat", channels=c, num_heads=h, num_groups=g, fmap_size=size, kernel_size=k, use_pe=pe
        )
        assert sum(p.numel() for p in m.parameters()) == _count(c, h, g, size, k, pe)


def _bilinear(img, gx, gy):
    """img (D, H, W) at normalised (gx, gy) in [-1, 1], corners aligned; zero outside."""
    d, hh, ww = img.shape
    px, py = (gx + 1) / 2 * (ww - 1), (gy + 1) / 2 * (hh - 1)
    x0, y0 = math.floor(px), math.floor(py)
    out = torch.zeros(d, dtype=img.dtype)
    for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
        for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            if 0 <= yy < hh and 0 <= xx < ww:
                out = out + wy * wx * img[:, yy, xx]
    return out


def _conv1x1(conv, x):
    return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]


def _reference(m, x):
    """Deformable attention from the paper's equations, one group, sample and query at a time."""
    n, c, hh, ww = x.shape
    h, g = m.num_heads, m.num_groups
    cg, d, hg = c // g, c // h, h // g
    q = _conv1x1(m.proj_q, x)
    t = F.conv2d(
        q.reshape(n * g, cg, hh, ww),
        m.offset_dw.weight,
        m.offset_dw.bias,
        m.offset_dw.stride,
        m.offset_dw.padding,
        groups=cg,
    )
    t = F.layer_norm(t.permute(0, 2, 3, 1), (cg,), m.offset_norm.weight, m.offset_norm.bias).permute(
        0, 3, 1, 2
    )
    off = torch.einsum("oc,nchw->nohw", m.offset_pw.weight[:, :, 0, 0], F.gelu(t))  # (N*G, 2, Hk, Wk): dy, dx
    hk, wk = off.shape[2:]
    s = m.offset_range_factor
    out = torch.zeros(n, c, hh * ww, dtype=x.dtype)
    for b in range(n):
        all_pos, samples = [], []
        for gi in range(g):
            o = off[b * g + gi].tolist()
            pos = []  # (y, x) of every sample, normalised to [-1, 1]
            for i in range(hk):
                for j in range(wk):
                    ry, rx = (i + 0.5) / hk * 2 - 1, (j + 0.5) / wk * 2 - 1  # reference point
                    if s >= 0:
                        py, px = ry + s * math.tanh(o[0][i][j]) / hk, rx + s * math.tanh(o[1][i][j]) / wk
                    else:
                        py, px = math.tanh(ry + o[0][i][j]), math.tanh(rx + o[1][i][j])
                    pos.append((py, px))
            all_pos.append(pos)
            samples.append(
                torch.stack([_bilinear(x[b, gi * cg : (gi + 1) * cg], px, py) for py, px in pos], -1)
            )
        xt = torch.cat(samples, 0)[None, :, None]  # (1, C, 1, Ns): keys and values are shared by all queries
        k = _conv1x1(m.proj_k, xt).reshape(h, d, -1)
        v = _conv1x1(m.proj_v, xt).reshape(h, d, -1)
        qb = q[b].reshape(h, d, hh * ww)
        logits = torch.einsum("hdm,hdn->hmn", qb, k) * d**-0.5
        if m.rpe_table is not None:
            for head in range(h):
                gpos = all_pos[head // hg]
                table = m.rpe_table[head][None]
                for qi in range(hh * ww):
                    qy, qx = (qi // ww + 0.5) / hh * 2 - 1, (qi % ww + 0.5) / ww * 2 - 1
                    for si, (py, px) in enumerate(gpos):
                        logits[head, qi, si] += _bilinear(table, (qx - px) / 2, (qy - py) / 2)[0]
        a = torch.exp(logits - logits.amax(-1, keepdim=True))
        a = a / a.sum(-1, keepdim=True)
        out[b] = torch.einsum("hmn,hdn->hdm", a, v).reshape(c, hh * ww)
    return _conv1x1(m.proj_out, out.reshape(n, c, hh, ww))


def test_matches_reference():
    torch.manual_seed(0)
    x = torch.randn(1, 8, 4, 5, dtype=torch.float64)
    configs = [
        {"fmap_size": (4, 5), "kernel_size": 3},  # bounded offsets, bias table made for this size
        {"fmap_size": (4, 5), "kernel_size": 3, "stride": 2, "offset_range_factor": -1},  # tanh offsets
        {"fmap_size": (3, 7), "kernel_size": 3},  # another size: the table is interpolated
    ]
    for kw in configs:
        m = cvattn.create("dat", channels=8, num_heads=4, num_groups=2, **kw).double().eval()
        with torch.no_grad():
            m.rpe_table.normal_()
            m.offset_pw.weight.mul_(5.0)  # offsets large enough to move samples between pixels
        with torch.no_grad():
            torch.testing.assert_close(m(x), _reference(m, x))


def test_keys_are_shared_by_all_queries():
    # the sampled keys and values do not depend on the query, so two pixels with equal features get equal
    # outputs; only the relative position bias tells them apart
    torch.manual_seed(0)
    x = torch.randn(1, 8, 5, 6, dtype=torch.float64)
    x[:, :, 0, 0] = x[:, :, 4, 5]
    for use_pe in (False, True):
        m = cvattn.create("dat", channels=8, num_heads=4, num_groups=2, fmap_size=(5, 6), use_pe=use_pe)
        m = m.double().eval()
        if use_pe:
            with torch.no_grad():
                m.rpe_table.normal_()
        with torch.no_grad():
            y = m(x)
        same = torch.allclose(y[:, :, 0, 0], y[:, :, 4, 5])
        assert same != use_pe
