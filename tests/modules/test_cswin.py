import math

import torch

import cvattn


def _count(c, qkv_bias=True):
    # qkv (3C x C, bias 3C) + proj (C x C + C) + depthwise 3x3 LePE convs with bias over C channels in all
    return 3 * c * c + (3 * c if qkv_bias else 0) + c * c + c + 9 * c + c


def test_parameter_count_closed_form():
    for c, h, bias, last in [(64, 2, True, False), (96, 4, False, False), (32, 2, True, True)]:
        mod = cvattn.create("cswin", channels=c, num_heads=h, qkv_bias=bias, last_stage=last)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, bias)


def _branch(q, k, v, conv, heads, sh, sw, scale):
    """q, k, v: (N, H, W, C') maps; stripes of sh x sw after even zero padding; explicit softmax and LePE."""
    n, hh, ww, cb = q.shape
    d = cb // heads
    hp, wp = math.ceil(hh / sh) * sh, math.ceil(ww / sw) * sw
    top, left = (hp - hh) // 2, (wp - ww) // 2

    def pad(t):
        out = torch.zeros(n, hp, wp, cb, dtype=t.dtype)
        out[:, top : top + hh, left : left + ww] = t
        return out

    q, k, v = pad(q), pad(k), pad(v)
    out = torch.zeros_like(q)
    for r0 in range(0, hp, sh):
        for c0 in range(0, wp, sw):
            qs, ks, vs = (t[:, r0 : r0 + sh, c0 : c0 + sw].reshape(n, -1, heads, d) for t in (q, k, v))
            logits = torch.einsum("nqhd,nkhd->nhqk", qs, ks) * scale
            e = torch.exp(logits - logits.amax(-1, keepdim=True))
            y = torch.einsum("nhqk,nkhd->nqhd", e / e.sum(-1, keepdim=True), vs).reshape(n, sh, sw, cb)
            # LePE: depthwise 3x3 conv of V that sees only this stripe (zeros outside it)
            stripe = v[:, r0 : r0 + sh, c0 : c0 + sw]
            lepe = conv.bias.expand(n, sh, sw, cb).clone()
            for i in range(sh):
                for j in range(sw):
                    for di in (-1, 0, 1):
                        for dj in (-1, 0, 1):
                            if 0 <= i + di < sh and 0 <= j + dj < sw:
                                lepe[:, i, j] += conv.weight[:, 0, di + 1, dj + 1] * stripe[:, i + di, j + dj]
            out[:, r0 : r0 + sh, c0 : c0 + sw] = y + lepe
    return out[:, top : top + hh, left : left + ww]


def _reference(mod, x):
    n, c, hh, ww = x.shape
    z = x.permute(0, 2, 3, 1)
    qkv = z @ mod.qkv.weight.T + mod.qkv.bias
    q, k, v = qkv[..., :c], qkv[..., c : 2 * c], qkv[..., 2 * c :]
    if mod.last_stage:
        y = _branch(q, k, v, mod.lepe[0], mod.num_heads, hh, ww, mod.scale)
    else:
        half, heads = c // 2, mod.num_heads // 2
        sw = mod.split_size
        vert = _branch(q[..., :half], k[..., :half], v[..., :half], mod.lepe[0], heads, hh, sw, mod.scale)
        horiz = _branch(q[..., half:], k[..., half:], v[..., half:], mod.lepe[1], heads, sw, ww, mod.scale)
        y = torch.cat((vert, horiz), -1)
    y = y @ mod.proj.weight.T + mod.proj.bias
    return y.permute(0, 3, 1, 2)


def test_matches_reference_padded_non_square():
    torch.manual_seed(0)
    x = torch.randn(
        2, 8, 5, 7, dtype=torch.float64
    )  # sw = 3: width pads 7 -> 9 (1 + 1), height 5 -> 6 (0 + 1)
    for kw in ({"split_size": 3}, {"split_size": 4, "qk_scale": 0.3}, {"last_stage": True}):
        mod = cvattn.create("cswin", channels=8, num_heads=4, **kw).double().eval()
        torch.testing.assert_close(mod(x), _reference(mod, x))


def test_cross_shaped_receptive_field():
    torch.manual_seed(0)
    mod = cvattn.create("cswin", channels=8, num_heads=2, split_size=2).eval()
    x = torch.randn(1, 8, 8, 8)
    x2 = x.clone()
    x2[:, :, 4, 4] += 1.0
    with torch.no_grad():
        changed = (mod(x2) - mod(x)).abs().sum(1)[0] > 0
    # one pixel reaches its vertical stripe (columns 4-5, every row) and its horizontal stripe (rows 4-5)
    expected = torch.zeros(8, 8, dtype=torch.bool)
    expected[:, 4:6] = True
    expected[4:6, :] = True
    assert torch.equal(changed, expected)
