import torch
import torch.nn.functional as F

import cvattn


def _count(cin, cout, k, dk, dv, nh, relative, max_size=64):
    n = cin * (cout - dv) * k * k + (cout - dv) + cin * (2 * dk + dv) + 2 * dk + dv + dv * dv + dv
    return n + (2 * (2 * max_size - 1) * (dk // nh) if relative else 0)


def test_parameter_count_closed_form():
    m = cvattn.create("aa-conv")
    assert (m.dk, m.dv) == (8, 8)
    assert sum(p.numel() for p in m.parameters()) == _count(64, 64, 3, 8, 8, 8, True)
    m = cvattn.create("aa-conv", in_channels=32, out_channels=256, relative=False)
    assert (m.dk, m.dv) == (48, 24)
    assert sum(p.numel() for p in m.parameters()) == _count(32, 256, 3, 48, 24, 8, False)


def test_matches_loop_reference():
    torch.manual_seed(0)
    m = cvattn.create(
        "aa-conv", in_channels=6, out_channels=12, key_channels=8, value_channels=4, num_heads=2, max_size=5
    )
    m = m.double().eval()
    x = torch.randn(2, 6, 3, 4, dtype=torch.float64)
    h, w, nh, dkh, dvh = 3, 4, 2, 4, 2
    qkv = torch.einsum("oc,nchw->nohw", m.qkv.weight[:, :, 0, 0], x) + m.qkv.bias[:, None, None]
    q, k, v = qkv[:, :8], qkv[:, 8:16], qkv[:, 16:]
    out = torch.zeros(2, 4, h, w, dtype=torch.float64)
    for head in range(nh):
        qs, vs = slice(head * dkh, (head + 1) * dkh), slice(head * dvh, (head + 1) * dvh)
        for y in range(h):
            for xx in range(w):
                qi = q[:, qs, y, xx] * dkh**-0.5
                logits = torch.zeros(2, h, w, dtype=torch.float64)
                for y2 in range(h):
                    for x2 in range(w):
                        rel = m.key_rel_w[x2 - xx + 4] + m.key_rel_h[y2 - y + 4]
                        logits[:, y2, x2] = (qi * (k[:, qs, y2, x2] + rel)).sum(1)
                a = torch.softmax(logits.flatten(1), 1)
                out[:, vs, y, xx] = torch.einsum("nj,ndj->nd", a, v[:, vs].flatten(2))
    attn = torch.einsum("oc,nchw->nohw", m.attn_out.weight[:, :, 0, 0], out) + m.attn_out.bias[:, None, None]
    expected = torch.cat([F.conv2d(x, m.conv.weight, m.conv.bias, padding=1), attn], 1)
    torch.testing.assert_close(m(x), expected)


def test_stride_and_any_size_below_max():
    m = cvattn.create("aa-conv", stride=2).eval()
    assert m(torch.randn(1, 64, 13, 17)).shape == (1, 64, 7, 9)
    m = cvattn.create("aa-conv", relative=False).eval()
    assert m(torch.randn(1, 64, 70, 3)).shape == (1, 64, 70, 3)
