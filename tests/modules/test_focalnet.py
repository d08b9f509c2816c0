import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, window, level, factor=2, bias=True, postln=False):
    n = c * (2 * c + level + 1) + (2 * c + level + 1 if bias else 0)  # f: q, context and L + 1 gates
    n += c * c + (c if bias else 0)  # h, 1x1 conv
    n += c * c + c  # output projection
    n += sum(c * (factor * lv + window) ** 2 for lv in range(level))  # depthwise focal convs, no bias
    return n + (2 * c if postln else 0)


def test_parameter_count_closed_form():
    for c, window, level, bias, postln in [(64, 3, 2, True, False), (24, 5, 3, False, True)]:
        m = cvattn.create(
            "focalnet",
            channels=c,
            focal_window=window,
            focal_level=level,
            bias=bias,
            use_postln_in_modulation=postln,
        )
        assert sum(p.numel() for p in m.parameters()) == _count(c, window, level, bias=bias, postln=postln)
    assert _count(64, 3, 2) == (64 * 131 + 131) + 2 * (64 * 64 + 64) + 64 * (3 * 3 + 5 * 5) == 19011


def _depthwise(x, weight):
    kh, kw = weight.shape[-2:]
    xp = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2))
    h, w = x.shape[-2:]
    out = torch.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            out = out + weight[None, :, 0, i, j, None, None] * xp[:, :, i : i + h, j : j + w]
    return out


def _reference(m, x, normalize, postln):
    n, c, hh, ww = x.shape
    levels = m.focal_level
    t = x.permute(0, 2, 3, 1)  # pixels as rows
    z = t @ m.f.weight.T + m.f.bias  # (N, H, W, 2C + L + 1)
    q, ctx, gates = z[..., :c], z[..., c : 2 * c], z[..., 2 * c :]
    ctx = ctx.permute(0, 3, 1, 2)
    gates = gates.permute(0, 3, 1, 2)
    agg = torch.zeros_like(ctx)
    for lv in range(levels):
        ctx = F.gelu(_depthwise(ctx, m.focal_layers[lv][0].weight))
        agg = agg + gates[:, lv : lv + 1] * ctx
    agg = agg + gates[:, levels : levels + 1] * F.gelu(ctx.mean((2, 3), keepdim=True))
    if normalize:
        agg = agg / (levels + 1)
    modulator = torch.einsum("oc,nchw->nhwo", m.h.weight[:, :, 0, 0], agg) + m.h.bias
    y = q * modulator
    if postln:
        mu = y.mean(-1, keepdim=True)
        var = y.var(-1, unbiased=False, keepdim=True)
        y = (y - mu) / torch.sqrt(var + m.ln.eps) * m.ln.weight + m.ln.bias
    y = y @ m.proj.weight.T + m.proj.bias
    return y.permute(0, 3, 1, 2)


@pytest.mark.parametrize(
    ("window", "level", "normalize", "postln"), [(3, 2, False, False), (1, 3, True, True)]
)
def test_matches_reference(window, level, normalize, postln):
    torch.manual_seed(level)
    m = cvattn.create(
        "focalnet",
        channels=6,
        focal_window=window,
        focal_level=level,
        normalize_modulator=normalize,
        use_postln_in_modulation=postln,
    )
    m = m.double().eval()
    with torch.no_grad():
        if postln:
            m.ln.weight.uniform_(0.5, 1.5)
            m.ln.bias.normal_()
    x = torch.randn(2, 6, 7, 10, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x, normalize, postln))


def test_global_level_reaches_every_pixel():
    # through the global context level every input pixel influences every output pixel
    torch.manual_seed(0)
    m = cvattn.create("focalnet", channels=4, focal_window=3, focal_level=1).double().eval()
    x = torch.randn(1, 4, 15, 15, dtype=torch.float64, requires_grad=True)
    m(x)[0, :, 0, 0].sum().backward()
    assert (x.grad[0].abs().sum(0) > 0).all()


def test_even_kernel_raises():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("focalnet", channels=8, focal_window=2)
