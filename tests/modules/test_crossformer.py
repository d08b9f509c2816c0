import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, h, bias):
    p = c // 16  # width of the dynamic position bias MLP
    dpb = (
        3 * p + 2 * (2 * p + p * p + p) + 2 * p + p * h + h
    )  # pos_proj, 2 x (LN, Linear), LN, Linear to heads
    return 3 * c * c + (3 * c if bias else 0) + c * c + c + dpb


def test_parameter_count_closed_form():
    for c, h, bias in [(64, 2, True), (96, 3, False)]:
        for id, kw in (("crossformer-sda", {}), ("crossformer-lda", {"interval": 4})):
            m = cvattn.create(id, channels=c, num_heads=h, group_size=5, qkv_bias=bias, **kw)
            assert sum(p.numel() for p in m.parameters()) == _count(c, h, bias)


def _lin(layer, t):
    return t @ layer.weight.T + layer.bias


def _dpb(pos, offsets):
    y = _lin(pos.pos_proj, offsets)
    for step in (pos.pos1, pos.pos2, pos.pos3):
        ln, lin = step[0], step[2]
        y = _lin(lin, F.relu(F.layer_norm(y, ln.normalized_shape, ln.weight, ln.bias, ln.eps)))
    return y


def _reference(m, x, g, interval):
    """Loops over groups of the padded map: members of a group are ``interval`` apart inside blocks of g*interval."""
    n, c, hh, ww = x.shape
    h = m.num_heads
    d = c // h
    span = g * interval
    hp, wp = -(-hh // span) * span, -(-ww // span) * span
    xp = torch.zeros(n, c, hp, wp, dtype=x.dtype)
    xp[:, :, :hh, :ww] = x
    coords = [(a, b) for a in range(g) for b in range(g)]
    offsets = torch.tensor([[a1 - a2, b1 - b2] for a1, b1 in coords for a2, b2 in coords], dtype=x.dtype)
    bias = _dpb(m.pos, offsets).reshape(g * g, g * g, h).permute(2, 0, 1)  # (h, G^2, G^2)
    out = torch.zeros_like(xp)
    for bh in range(0, hp, span):
        for bw in range(0, wp, span):
            for ih in range(interval):
                for iw in range(interval):
                    rows = [bh + a * interval + ih for a, _ in coords]
                    cols = [bw + b * interval + iw for _, b in coords]
                    t = xp[:, :, rows, cols].transpose(1, 2)  # (N, G^2, C)
                    pad = (
                        torch.tensor(
                            [(r >= hh or q >= ww) for r, q in zip(rows, cols, strict=True)], dtype=x.dtype
                        )
                        * -1e6
                    )
                    qkv = _lin(m.qkv, t)
                    q, k, v = (
                        qkv[..., j * c : (j + 1) * c].reshape(n, -1, h, d).transpose(1, 2) for j in range(3)
                    )
                    s = q @ k.transpose(-2, -1) / d**0.5 + bias + pad
                    a = torch.exp(s - s.max(dim=-1, keepdim=True).values)
                    y = (a / a.sum(dim=-1, keepdim=True)) @ v  # (N, h, G^2, d)
                    y = _lin(m.proj, y.transpose(1, 2).reshape(n, -1, c))
                    out[:, :, rows, cols] = y.transpose(1, 2)
    return out[:, :, :hh, :ww]


@pytest.mark.parametrize(
    ("id", "kw", "size"),
    [
        ("crossformer-sda", {}, (5, 7)),
        ("crossformer-sda", {}, (6, 9)),
        ("crossformer-lda", {"interval": 2}, (5, 7)),
        ("crossformer-lda", {"interval": 3}, (6, 6)),
    ],
)
def test_matches_reference(id, kw, size):
    torch.manual_seed(0)
    m = cvattn.create(id, channels=16, num_heads=2, group_size=3 if id.endswith("sda") else 2, **kw)
    m = m.double().eval()
    x = torch.randn(2, 16, *size, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x, m.group_size, m.interval))


def test_groups_are_local_for_sda_and_strided_for_lda():
    torch.manual_seed(1)
    x = torch.randn(1, 16, 8, 8, dtype=torch.float64)
    sda = cvattn.create("crossformer-sda", channels=16, num_heads=2, group_size=4).double().eval()
    lda = cvattn.create("crossformer-lda", channels=16, num_heads=2, group_size=4, interval=2).double().eval()
    # SDA: the top-left 4 x 4 window ignores everything outside it
    x2 = x.clone()
    x2[:, :, 4:, :] += 1.0
    x2[:, :, :, 4:] += 1.0
    torch.testing.assert_close(sda(x2)[:, :, :4, :4], sda(x)[:, :, :4, :4])
    # LDA: pixels at even rows and columns form one group, untouched by the odd ones
    x3 = x.clone()
    x3[:, :, 1::2, :] += 1.0
    x3[:, :, :, 1::2] += 1.0
    torch.testing.assert_close(lda(x3)[:, :, ::2, ::2], lda(x)[:, :, ::2, ::2])
    assert not torch.allclose(lda(x3)[:, :, 1::2, 1::2], lda(x)[:, :, 1::2, 1::2])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("crossformer-sda", channels=32, num_heads=3)
    with pytest.raises(ValueError, match=">= 16"):
        cvattn.create("crossformer-lda", channels=8, num_heads=2)
    with pytest.raises(ValueError, match="interval"):
        cvattn.create("crossformer-lda", channels=32, num_heads=2, interval=0)
