import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, f=1, k=5):
    return 2 * (c * c + c) + (c * f * c + f * c) + (f * c * k * k + f * c) + (f * c * c + c)


@pytest.mark.parametrize("id", ["rmt", "rmt-full"])
def test_parameter_count_closed_form(id):
    for c, h, f, k in [(64, 4, 1, 5), (48, 6, 2, 3)]:
        m = cvattn.create(id, channels=c, num_heads=h, value_factor=f, lepe_kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == _count(c, f, k)
    assert _count(64) == 4 * 64 * 64 + 30 * 64


def _rotate(t, w):
    """t: (B, H, W, n, d); rotary embedding of channel pairs by raster index p = i * W + j."""
    d = t.shape[-1]
    half = d // 2
    theta = torch.tensor(
        [10000 ** (-(m / (half - 1) if half > 1 else 0.0)) for m in range(half)], dtype=t.dtype
    )
    out = torch.empty_like(t)
    for i in range(t.shape[1]):
        for j in range(t.shape[2]):
            phase = (i * w + j) * theta
            a, b = t[:, i, j, :, 0::2], t[:, i, j, :, 1::2]
            out[:, i, j, :, 0::2] = a * torch.cos(phase) - b * torch.sin(phase)
            out[:, i, j, :, 1::2] = b * torch.cos(phase) + a * torch.sin(phase)
    return out


def _softmax(z):
    e = torch.exp(z - z.amax(-1, keepdim=True))
    return e / e.sum(-1, keepdim=True)


def _reference(m, x, heads, a, b, full):
    n, c, hh, ww = x.shape
    d = c // heads
    t = x.permute(0, 2, 3, 1)
    lin = lambda layer: t @ layer.weight.T + layer.bias  # noqa: E731
    q = _rotate(lin(m.q).reshape(n, hh, ww, heads, d), ww)
    k = _rotate(lin(m.k).reshape(n, hh, ww, heads, d), ww)
    v = lin(m.v)
    lepe = F.conv2d(v.permute(0, 3, 1, 2), m.lepe.weight, m.lepe.bias, padding=2, groups=c).permute(
        0, 2, 3, 1
    )
    v = v.reshape(n, hh, ww, heads, -1)
    log_gamma = torch.tensor([math.log(1 - 2 ** (-a - b * h / heads)) for h in range(heads)], dtype=x.dtype)
    rows, cols = torch.arange(hh, dtype=x.dtype), torch.arange(ww, dtype=x.dtype)
    dh, dw = (rows[:, None] - rows[None]).abs(), (cols[:, None] - cols[None]).abs()
    if full:
        dist = (dh[:, None, :, None] + dw[None, :, None, :]).reshape(hh * ww, hh * ww)  # Manhattan distance
        qf, kf, vf = (z.reshape(n, hh * ww, heads, -1) for z in (q, k, v))
        logits = torch.einsum("bphe,bqhe->bhpq", qf, kf) / math.sqrt(d) + log_gamma[:, None, None] * dist
        y = torch.einsum("bhpq,bqhe->bphe", _softmax(logits), vf).reshape(n, hh, ww, -1)
    else:
        logits = torch.einsum("bijhe,bikhe->bihjk", q, k) / math.sqrt(d) + log_gamma[:, None, None] * dw
        y = torch.einsum("bihjk,bikhe->bijhe", _softmax(logits), v)  # along each row
        logits = torch.einsum("bijhe,bkjhe->bjhik", q, k) / math.sqrt(d) + log_gamma[:, None, None] * dh
        y = torch.einsum("bjhik,bkjhe->bijhe", _softmax(logits), y).reshape(
            n, hh, ww, -1
        )  # along each column
    y = (y + lepe) @ m.proj.weight.T + m.proj.bias
    return y.permute(0, 3, 1, 2)


@pytest.mark.parametrize("id", ["rmt", "rmt-full"])
def test_matches_reference_on_non_square_input(id):
    torch.manual_seed(0)
    heads, a, b = 4, 2.0, 5.0
    m = cvattn.create(id, channels=16, num_heads=heads, init_value=a, heads_range=b).double()
    x = torch.randn(2, 16, 5, 8, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x, heads, a, b, full=id == "rmt-full"))


def test_without_content_both_forms_reduce_to_the_manhattan_decay_kernel():
    """With zero queries and keys the weights are gamma^D normalised; the decomposed form factorises it exactly."""
    h, w, a, b = 4, 5, 1.0, 0.0
    x = torch.randn(1, 2, h, w, dtype=torch.float64)
    gamma = 1 - 2 ** (-a)
    ii, jj = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    dist = (ii.flatten()[:, None] - ii.flatten()[None]).abs() + (
        jj.flatten()[:, None] - jj.flatten()[None]
    ).abs()
    kernel = gamma ** dist.double()
    kernel = kernel / kernel.sum(-1, keepdim=True)
    expected = (x.flatten(2) @ kernel.T).reshape(x.shape)
    for id in ("rmt", "rmt-full"):
        m = cvattn.create(id, channels=2, num_heads=1, init_value=a, heads_range=b).double()
        with torch.no_grad():
            for p in m.parameters():
                p.zero_()
            m.v.weight.copy_(torch.eye(2))
            m.proj.weight.copy_(torch.eye(2))
        torch.testing.assert_close(m(x), expected)


@pytest.mark.parametrize("id", ["rmt", "rmt-full"])
def test_bad_arguments_raise_value_error(id):
    for kwargs in [{"num_heads": 3}, {"num_heads": 16}, {"lepe_kernel_size": 4}]:  # 16 / 3, odd head width 1
        with pytest.raises(ValueError):
            cvattn.create(id, channels=16, **kwargs)
