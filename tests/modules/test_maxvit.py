import math

import pytest
import torch

import cvattn


def _count(c, d, h, p):
    inner = h * d
    return 3 * (c * inner + inner) + inner * c + c + h * (2 * p - 1) ** 2  # q, k, v, o and the bias table


@pytest.mark.parametrize("id", ["maxvit-block", "maxvit-grid"])
def test_parameter_count_closed_form(id):
    for kw, (c, d, h, p) in [
        ({"channels": 64, "head_size": 32, "size": 7}, (64, 32, 2, 7)),
        ({"channels": 96, "head_size": 16, "num_heads": 4, "size": 12}, (96, 16, 4, 12)),
    ]:
        m = cvattn.create(id, **kw)
        assert sum(p_.numel() for p_ in m.parameters()) == _count(c, d, h, p)


def _softmax(z):
    e = (z - z.max(-1, keepdim=True).values).exp()
    return e / e.sum(-1, keepdim=True)


def _reference(m, x):
    """Window by window, with the pixel sets and the bias written out from the paper's definitions."""
    n, c, hh, ww = x.shape
    p, heads, d = m.size, m.num_heads, m.head_size
    hp, wp = -(-hh // p) * p, -(-ww // p) * p
    xp = torch.zeros(n, c, hp, wp, dtype=x.dtype)
    xp[:, :, :hh, :ww] = x
    table = m.relative_bias
    bias = torch.zeros(heads, p * p, p * p, dtype=x.dtype)
    for i in range(p):
        for j in range(p):
            for a in range(p):
                for b in range(p):
                    bias[:, i * p + j, a * p + b] = table[:, a - i + p - 1, b - j + p - 1]
    sh, sw = hp // p, wp // p  # grid stride, or number of windows per axis
    out = torch.zeros_like(xp)
    for u in range(hp // p):
        for v in range(wp // p):
            if m.partition == "block":
                pix = [(u * p + i, v * p + j) for i in range(p) for j in range(p)]
            else:  # the pixel at offset (u, v) of every cell of the p x p grid
                pix = [(i * sh + u, j * sw + v) for i in range(p) for j in range(p)]
            rows, cols = torch.tensor([r for r, _ in pix]), torch.tensor([s for _, s in pix])
            t = xp[:, :, rows, cols].transpose(1, 2)  # (N, P*P, C)
            q, k, vv = (t @ lin.weight.T + lin.bias for lin in (m.q, m.k, m.v))
            o = []
            for g in range(heads):
                sl = slice(g * d, (g + 1) * d)
                logits = q[..., sl] @ k[..., sl].transpose(1, 2) / math.sqrt(d) + bias[g]
                o.append(_softmax(logits) @ vv[..., sl])
            y = torch.cat(o, -1) @ m.o.weight.T + m.o.bias
            out[:, :, rows, cols] = y.transpose(1, 2)
    return out[:, :, :hh, :ww]


@pytest.mark.parametrize("id", ["maxvit-block", "maxvit-grid"])
def test_matches_reference_on_a_padded_map(id):
    torch.manual_seed(0)
    x = torch.randn(2, 12, 7, 8, dtype=torch.float64)
    m = cvattn.create(id, channels=12, head_size=4, size=3).double().eval()
    with torch.no_grad():
        m.relative_bias.normal_()  # a bias of the size of the logits, so that a wrong offset shows
    torch.testing.assert_close(m(x), _reference(m, x))


@pytest.mark.parametrize("id", ["maxvit-block", "maxvit-grid"])
def test_which_pixels_interact(id):
    # block: a pixel reaches only its own 3x3 window; grid: only the pixels 3 rows/columns apart (9x9 map)
    torch.manual_seed(0)
    m = cvattn.create(id, channels=8, head_size=4, size=3).double().eval()
    x = torch.randn(1, 8, 9, 9, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 4, 4] += 1.0
    with torch.no_grad():
        changed = (m(x2) - m(x)).abs().amax(1)[0] > 0  # (9, 9)
    r = torch.arange(9)
    if id == "maxvit-block":
        expected = (r[:, None] // 3 == 1) & (r[None, :] // 3 == 1)
    else:
        expected = (r[:, None] % 3 == 1) & (r[None, :] % 3 == 1)
    assert torch.equal(changed, expected)
