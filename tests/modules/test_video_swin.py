import itertools
import math

import torch

import cvattn


def _count(c, h, m, qkv_bias=True):
    # qkv (3C x C [+ 3C]) + proj (C x C + C) + bias table ((2Mt-1)(2Mh-1)(2Mw-1) x h)
    return 3 * c * c + (3 * c if qkv_bias else 0) + c * c + c + math.prod(2 * k - 1 for k in m) * h


def test_parameter_count_closed_form():
    for id, c, h, m, bias in [
        ("video-swin", 96, 3, (8, 7, 7), True),
        ("video-swin", 64, 4, (2, 5, 3), False),
        ("video-swin", 32, 1, (1, 2, 2), True),
    ]:
        mod = cvattn.create(id, channels=c, num_heads=h, window_size=m, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, h, m, bias)


def _reference(mod, x):
    """Loops over 3-D windows; explicit softmax; bias from the offsets (dt, dh, dw) into the full table."""
    n, c = x.shape[:2]
    size = x.shape[2:]
    full = mod.window_size
    m = [min(s, k) for s, k in zip(size, full, strict=True)]  # the window shrinks to a clip no longer than it
    s = [0 if sz <= k else sh for sz, k, sh in zip(size, full, mod.shift_size, strict=True)]
    heads = mod.num_heads
    d = c // heads
    padded = [math.ceil(sz / k) * k for sz, k in zip(size, m, strict=True)]
    xp = torch.zeros(n, c, *padded, dtype=x.dtype)
    xp[:, :, : size[0], : size[1], : size[2]] = x
    # rolled frame: position p holds original (p + s) mod P; a token "wrapped" if it came from the first s
    # positions of an axis; tokens that differ in wrapping on any axis must not see each other
    idx = [(torch.arange(p) + sh) % p for p, sh in zip(padded, s, strict=True)]
    rolled = xp[:, :, idx[0]][:, :, :, idx[1]][:, :, :, :, idx[2]]
    wrap = [
        (torch.arange(p) >= p - sh) if sh else torch.zeros(p, dtype=torch.bool)
        for p, sh in zip(padded, s, strict=True)
    ]
    table = mod.relative_position_bias_table
    wq, bq = mod.qkv.weight, mod.qkv.bias
    out = torch.zeros_like(rolled)
    for bi in range(n):
        for start in itertools.product(*(range(0, p, k) for p, k in zip(padded, m, strict=True))):
            pos = [
                tuple(a + o for a, o in zip(start, off, strict=True))
                for off in itertools.product(*(range(k) for k in m))
            ]
            tok = torch.stack([rolled[bi, :, p0, p1, p2] for p0, p1, p2 in pos])  # (L, C)
            qkv = tok @ wq.T + (bq if bq is not None else 0)
            q, k, v = qkv[:, :c], qkv[:, c : 2 * c], qkv[:, 2 * c :]
            outs = []
            for hd in range(heads):
                sl = slice(hd * d, (hd + 1) * d)
                logits = (q[:, sl] @ k[:, sl].T) * mod.scale
                for a, pa in enumerate(pos):
                    for b, pb in enumerate(pos):
                        rel = [pa[i] - pb[i] + full[i] - 1 for i in range(3)]
                        logits[a, b] += table[
                            (rel[0] * (2 * full[1] - 1) + rel[1]) * (2 * full[2] - 1) + rel[2], hd
                        ]
                        if any(wrap[i][pa[i]] != wrap[i][pb[i]] for i in range(3)):
                            logits[a, b] -= 100.0
                e = torch.exp(logits - logits.max(-1, keepdim=True).values)
                outs.append((e / e.sum(-1, keepdim=True)) @ v[:, sl])
            y = torch.cat(outs, -1) @ mod.proj.weight.T + mod.proj.bias
            for a, (p0, p1, p2) in enumerate(pos):
                out[bi, :, p0, p1, p2] = y[a]
    inv = [(torch.arange(p) - sh) % p for p, sh in zip(padded, s, strict=True)]
    out = out[:, :, inv[0]][:, :, :, inv[1]][:, :, :, :, inv[2]]
    return out[:, :, : size[0], : size[1], : size[2]]


def test_matches_reference_padded_shifted_and_shrunk():
    torch.manual_seed(0)
    cases = [
        ("video-swin", {"window_size": (2, 2, 3)}, (1, 8, 3, 3, 5)),  # padded on every axis
        ("video-swin-shifted", {"window_size": (2, 3, 2), "shift_size": (1, 1, 1)}, (1, 8, 3, 4, 5)),
        (
            "video-swin-shifted",
            {"window_size": (4, 2, 3), "shift_size": (2, 1, 1)},
            (2, 8, 3, 4, 4),
        ),  # T shrinks
        ("video-swin", {"window_size": (2, 4, 2), "qkv_bias": False, "qk_scale": 0.2}, (1, 8, 2, 3, 4)),  # H
    ]
    for id, kw, shape in cases:
        mod = cvattn.create(id, channels=8, num_heads=2, **kw).double().eval()
        x = torch.randn(shape, dtype=torch.float64)
        with torch.no_grad():
            mod.relative_position_bias_table.normal_()
            torch.testing.assert_close(mod(x), _reference(mod, x))


def test_temporal_windows_and_shift():
    """Windows of 2 frames on 4 frames: unshifted, frame 1 shares a window with frame 0 only; shifted by 1,
    with frame 2 only (the windows are [1, 2] and [3, 0], and the mask keeps 3 and 0 apart)."""
    x = torch.randn(1, 8, 4, 4, 4, dtype=torch.float64)
    y = x.clone()
    y[:, :, 1] += 1.0
    for shift, sees in [((0, 0, 0), {0}), ((1, 2, 2), {2})]:
        mod = cvattn.create("video-swin", channels=8, num_heads=2, window_size=(2, 4, 4), shift_size=shift)
        mod = mod.double().eval()
        with torch.no_grad():
            a, b = mod(x), mod(y)
        for f in (0, 2, 3):
            assert torch.allclose(a[:, :, f], b[:, :, f]) == (f not in sees), (shift, f)
