import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, h, m, k, bias):
    extract = 9 * c + 2 * c * (c // 4) + c * c  # depthwise 3x3, SE (two bias-free Linears), pointwise 1x1
    attn = 2 * c * c + (2 * c if bias else 0) + c * c + c  # kv and proj
    return max(k, 1) * extract + attn + (2 * m - 1) ** 2 * h  # + relative position table


def test_parameter_count_closed_form():
    for c, h, m, k, bias in [(64, 2, 7, 1, True), (32, 4, 5, 0, False), (48, 3, 4, 3, True)]:
        mod = cvattn.create("gcvit", channels=c, num_heads=h, window_size=m, num_pools=k, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, h, m, k, bias)


def _feat_extract(step, x):
    dw, _, se, pw = step.conv
    y = F.gelu(F.conv2d(x, dw.weight, padding=1, groups=x.shape[1]))
    s = torch.sigmoid(F.gelu(y.mean((2, 3)) @ se.fc[0].weight.T) @ se.fc[2].weight.T)
    y = F.conv2d(y * s[:, :, None, None], pw.weight)
    return F.max_pool2d(x + y, 3, 2, 1) if isinstance(step.pool, torch.nn.MaxPool2d) else x + y


def _reference(mod, x):
    n, c, hh, ww = x.shape
    h, m = mod.num_heads, mod.window_size
    d = c // h
    g = x
    for step in mod.q_global:
        g = _feat_extract(step, g)
    g = F.interpolate(g, size=(m, m), mode="bicubic")
    q = g.flatten(2).transpose(1, 2)  # (N, M^2, C), row-major over the M x M grid
    ph, pw = -hh % m, -ww % m
    xp = F.pad(x, (0, pw, 0, ph))
    table = mod.relative_position_bias_table
    bias = torch.empty(h, m * m, m * m, dtype=x.dtype)
    for i in range(m * m):
        for j in range(m * m):
            dy, dx = i // m - j // m, i % m - j % m
            bias[:, i, j] = table[(dy + m - 1) * (2 * m - 1) + dx + m - 1]
    out = torch.zeros(n, c, hh + ph, ww + pw, dtype=x.dtype)
    for b in range(n):
        for wy in range(0, hh + ph, m):
            for wx in range(0, ww + pw, m):
                t = xp[b, :, wy : wy + m, wx : wx + m].reshape(c, -1).T  # (M^2, C)
                kv = t @ mod.kv.weight.T + mod.kv.bias
                k, v = kv[:, :c], kv[:, c:]
                heads = []
                for i in range(h):
                    sl = slice(i * d, (i + 1) * d)
                    s = q[b, :, sl] @ k[:, sl].T / d**0.5 + bias[i]
                    a = torch.exp(s - s.max(dim=1, keepdim=True).values)
                    heads.append((a / a.sum(dim=1, keepdim=True)) @ v[:, sl])
                y = torch.cat(heads, dim=1) @ mod.proj.weight.T + mod.proj.bias
                out[b, :, wy : wy + m, wx : wx + m] = y.T.reshape(c, m, m)
    return out[:, :, :hh, :ww]


@pytest.mark.parametrize(("size", "pools"), [((5, 7), 1), ((6, 6), 1), ((4, 5), 0)])
def test_matches_reference(size, pools):
    torch.manual_seed(0)
    mod = cvattn.create("gcvit", channels=16, num_heads=2, window_size=3, num_pools=pools).double().eval()
    with torch.no_grad():
        mod.relative_position_bias_table.normal_()
    x = torch.randn(2, 16, *size, dtype=torch.float64)
    torch.testing.assert_close(mod(x), _reference(mod, x))


def test_resize_of_an_exact_grid_is_the_identity():
    """At the sizes GC ViT is built for the global grid is already M x M and the bicubic resize changes nothing."""
    z = torch.randn(2, 8, 7, 7, dtype=torch.float64)
    assert torch.equal(F.interpolate(z, size=(7, 7), mode="bicubic"), z)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("gcvit", channels=10, num_heads=4)
    with pytest.raises(ValueError, match="window_size"):
        cvattn.create("gcvit", channels=16, num_heads=2, window_size=0)
