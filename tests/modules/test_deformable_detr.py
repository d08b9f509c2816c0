import math

import torch

import cvattn


def _count(c, m, k):
    return (c * m * k * 2 + m * k * 2) + (c * m * k + m * k) + 2 * (c * c + c)  # offsets, weights, value, out


def test_parameter_count_closed_form():
    for c, m, k in [(64, 8, 4), (96, 3, 5)]:
        mod = cvattn.create("deformable-detr", channels=c, num_heads=m, num_points=k)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, m, k)


def _bilinear(img, px, py):
    """img (D, H, W) at real pixel coordinates (px, py); zero outside the map."""
    d, hh, ww = img.shape
    x0, y0 = math.floor(px), math.floor(py)
    out = torch.zeros(d, dtype=img.dtype)
    for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
        for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
            if 0 <= yy < hh and 0 <= xx < ww:
                out = out + wy * wx * img[:, yy, xx]
    return out


def _reference(mod, x):
    """Deformable attention from the paper's equation, one query, head and point at a time."""
    n, c, hh, ww = x.shape
    m, k = mod.num_heads, mod.num_points
    d = c // m
    z = x.flatten(2).transpose(1, 2)  # (N, L, C)
    value = (z @ mod.value_proj.weight.T + mod.value_proj.bias).transpose(1, 2).reshape(n, m, d, hh, ww)
    off = (z @ mod.sampling_offsets.weight.T + mod.sampling_offsets.bias).reshape(n, hh * ww, m, k, 2)
    logits = (z @ mod.attention_weights.weight.T + mod.attention_weights.bias).reshape(n, hh * ww, m, k)
    a = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)
    out = torch.zeros(n, hh * ww, m, d, dtype=x.dtype)
    for b in range(n):
        for q in range(hh * ww):
            i, j = divmod(q, ww)
            for h in range(m):
                for p in range(k):
                    # reference point at the pixel centre; offsets are in pixels
                    px, py = j + off[b, q, h, p, 0].item(), i + off[b, q, h, p, 1].item()
                    out[b, q, h] += a[b, q, h, p] * _bilinear(value[b, h], px, py)
    y = out.reshape(n, hh * ww, c) @ mod.output_proj.weight.T + mod.output_proj.bias
    return y.transpose(1, 2).reshape(n, c, hh, ww)


def test_matches_reference_with_random_offsets():
    torch.manual_seed(0)
    mod = cvattn.create("deformable-detr", channels=8, num_heads=2, num_points=3).double().eval()
    with torch.no_grad():
        for p in mod.parameters():
            p.normal_()  # large offsets: many samples fall between pixels and some outside the map
    x = torch.randn(1, 8, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(mod(x), _reference(mod, x))


def test_initial_offsets_lie_on_rings():
    # official initialisation: head m starts at radius 1..K along direction 2*pi*m/M, scaled to the unit square
    mod = cvattn.create("deformable-detr", channels=16, num_heads=4, num_points=2)
    bias = mod.sampling_offsets.bias.view(4, 2, 2)
    expected = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    torch.testing.assert_close(bias[:, 0], expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(bias[:, 1], 2 * expected, atol=1e-6, rtol=0)
    assert not mod.attention_weights.weight.any() and not mod.sampling_offsets.weight.any()
