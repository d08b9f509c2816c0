import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, heads, kc=3):
    d, kk = c // heads, kc * kc
    qkv = 3 * (c * c + c)  # three 1x1 convs with bias
    pos = 2 * d + d  # coordinate projection with bias
    fc = 3 * heads * kk  # 1x1 conv without bias
    dep = c * kk * kc * kc  # grouped kc x kc conv (kk inputs per group), no bias
    return qkv + pos + fc + dep + 2  # + alpha and beta


def test_parameter_count_closed_form():
    for c, heads, kc in [(64, 4, 3), (48, 6, 5)]:
        m = cvattn.create("acmix", channels=c, num_heads=heads, kernel_conv=kc)
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, kc)


def _reflect(i, n):
    return -i if i < 0 else (2 * (n - 1) - i if i >= n else i)


def _reference(m, x):
    """The ACmix equations with explicit loops over the pixels' neighbourhoods (reflection padding)."""
    n, c, h, w = x.shape
    heads, d, ka, kc = m.num_heads, m.head_dim, m.kernel_att, m.kernel_conv

    def conv1x1(conv, t):
        return torch.einsum("oi,nihw->nohw", conv.weight[:, :, 0, 0], t) + conv.bias.view(1, -1, 1, 1)

    q, k, v = conv1x1(m.query, x), conv1x1(m.key, x), conv1x1(m.value, x)
    cols = torch.tensor([-1 + 2 * j / (w - 1) for j in range(w)], dtype=x.dtype)
    rows = torch.tensor([-1 + 2 * i / (h - 1) for i in range(h)], dtype=x.dtype)
    grid = torch.stack([cols.expand(h, w), rows[:, None].expand(h, w)])[None]
    p = conv1x1(m.pos_proj, grid)[0]  # (d, H, W)
    y_att = torch.zeros_like(x)
    r = ka // 2
    for b in range(n):
        for g in range(heads):
            sl = slice(g * d, (g + 1) * d)
            for i in range(h):
                for j in range(w):
                    nb = [
                        (_reflect(i + a, h), _reflect(j + e, w))
                        for a in range(-r, r + 1)
                        for e in range(-r, r + 1)
                    ]
                    qi = q[b, sl, i, j]
                    logits = torch.stack(
                        [qi @ (k[b, sl, u, t] + p[:, i, j] - p[:, u, t]) / math.sqrt(d) for u, t in nb]
                    )
                    att = torch.exp(logits - logits.max())
                    att = att / att.sum()
                    y_att[b, sl, i, j] = sum(a * v[b, sl, u, t] for a, (u, t) in zip(att, nb, strict=True))
    # convolution path: f[b, ch*kk + s] = sum over the 3h head features of fc weights
    qkv = torch.cat([t.reshape(n, heads, d, h, w) for t in (q, k, v)], 1)  # (N, 3h, d, H, W)
    f = torch.einsum("sg,ngdhw->ndshw", m.fc.weight[:, :, 0, 0], qkv).reshape(n, d * kc * kc, h, w)
    y_conv = F.conv2d(f, m.dep_conv.weight, padding=kc // 2, groups=d)
    return m.rate1 * y_att + m.rate2 * y_conv


def test_matches_reference_on_non_square_input():
    torch.manual_seed(0)
    m = cvattn.create("acmix", channels=8, kernel_att=5, num_heads=2).double().eval()
    with torch.no_grad():
        for prm in m.parameters():
            prm.normal_(0, 0.5)
    x = torch.randn(1, 8, 4, 6, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_convolution_path_starts_as_shift_and_sum():
    """With the shift-kernel initialisation, dep_conv sums the kc^2 features shifted to their offsets."""
    m = cvattn.create("acmix", channels=8, num_heads=2).double()
    d = m.head_dim
    f = torch.randn(1, d * 9, 5, 6, dtype=torch.float64)
    y = m.dep_conv(f)
    fp = F.pad(f, (1, 1, 1, 1)).view(1, d, 9, 7, 8)
    shifted = sum(
        fp[:, :, a * 3 + b, a : a + 5, b : b + 6] for a in range(3) for b in range(3)
    )  # (1, d, H, W)
    # every output channel of a group sees the same shift-and-sum of that group's kc^2 features
    torch.testing.assert_close(y, shifted.repeat_interleave(8 // d, dim=1))
    assert m.rate1.item() == m.rate2.item() == 0.5


def test_too_small_input_raises_value_error():
    m = cvattn.create("acmix", channels=8, num_heads=2)  # kernel_att 7: reflection padding of 3
    with pytest.raises(ValueError, match="kernel_att"):
        m(torch.randn(1, 8, 3, 9))
