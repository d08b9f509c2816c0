import torch
import torch.nn.functional as F

import cvattn


def _count(c, h, m, k=5, qkv_bias=True):
    d = c // h
    linear = 3 * c * c + (3 * c if qkv_bias else 0) + c * c + c  # qkv and proj
    return linear + d * k * k + d + c + m * m * c  # DWC shared by the heads, scale s, position encoding


def test_parameter_count_closed_form():
    for c, h, m, k, bias in [(64, 2, 7, 5, True), (96, 3, 12, 3, False)]:
        m_ = cvattn.create(
            "flatten-transformer", channels=c, num_heads=h, window_size=m, kernel_size=k, qkv_bias=bias
        )
        assert sum(p.numel() for p in m_.parameters()) == _count(c, h, m, k, bias)


def _reference(mod, x):
    """Quadratic form of the paper's equation, window by window: O_i = sum_j (phi(q_i).phi(k_j)) v_j / sum_j ..."""
    n, c, hh, ww = x.shape
    m, h, p = mod.window_size, mod.num_heads, mod.focusing_factor
    d = c // h
    hp, wp = -(-hh // m) * m, -(-ww // m) * m
    xp = torch.zeros(n, c, hp, wp, dtype=x.dtype)
    xp[:, :, :hh, :ww] = x
    s = torch.log1p(torch.exp(mod.scale[0, 0]))  # softplus

    def phi(z):
        z = (z.clamp(min=0) + 1e-6) / s
        zp = z**p
        return zp * torch.sqrt((z * z).sum(-1, keepdim=True)) / torch.sqrt((zp * zp).sum(-1, keepdim=True))

    out = torch.zeros(n, c, hp, wp, dtype=x.dtype)
    for i in range(0, hp, m):
        for j in range(0, wp, m):
            t = xp[:, :, i : i + m, j : j + m].flatten(2).transpose(1, 2)  # (N, L, C)
            qkv = t @ mod.qkv.weight.T + mod.qkv.bias
            q, k, v = qkv[..., :c], qkv[..., c : 2 * c] + mod.positional_encoding[0], qkv[..., 2 * c :]
            q, k = phi(q), phi(k)
            o = torch.zeros_like(t)
            for g in range(h):
                sl = slice(g * d, (g + 1) * d)
                sim = torch.einsum("nid,njd->nij", q[..., sl], k[..., sl])  # (N, L, L), non-negative
                length = m * m
                o[..., sl] = (sim @ v[..., sl] / length) / (sim.sum(-1, keepdim=True) / length + 1e-6)
                vmap = v[..., sl].transpose(1, 2).reshape(n, d, m, m)
                dwc = F.conv2d(vmap, mod.dwc.weight, mod.dwc.bias, padding=mod.dwc.padding, groups=d)
                o[..., sl] += dwc.flatten(2).transpose(1, 2)
            y = o @ mod.proj.weight.T + mod.proj.bias
            out[:, :, i : i + m, j : j + m] = y.transpose(1, 2).reshape(n, c, m, m)
    return out[:, :, :hh, :ww]


def test_matches_quadratic_reference_on_a_padded_map():
    torch.manual_seed(0)
    x = torch.randn(2, 12, 5, 7, dtype=torch.float64)
    for p, k in ((3, 5), (2, 3)):
        mod = cvattn.create(
            "flatten-transformer", channels=12, num_heads=3, window_size=3, focusing_factor=p, kernel_size=k
        )
        mod = mod.double().eval()
        with torch.no_grad():
            mod.scale.normal_()
            mod.positional_encoding.normal_()
        torch.testing.assert_close(mod(x), _reference(mod, x))


def test_windows_do_not_interact():
    torch.manual_seed(0)
    mod = cvattn.create("flatten-transformer", channels=8, num_heads=2, window_size=3).double().eval()
    x = torch.randn(1, 8, 6, 6, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, :3, :3] += torch.randn(1, 8, 3, 3, dtype=torch.float64)
    with torch.no_grad():
        y, y2 = mod(x), mod(x2)
    assert not torch.allclose(y[:, :, :3, :3], y2[:, :, :3, :3])
    torch.testing.assert_close(y[:, :, 3:], y2[:, :, 3:])
    torch.testing.assert_close(y[:, :, :, 3:], y2[:, :, :, 3:])
