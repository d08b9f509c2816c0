import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, d, f, layers, k):
    n = c * k * k + 2 * c  # depthwise k x k conv + BN
    n += c * d  # 1x1 projection to d (no bias)
    # per layer: GN (2d), qkv 1x1 conv to 1 + 2d with bias, out 1x1 conv, GN, fc1, fc2 (biases)
    n += layers * (2 * d + (1 + 2 * d) * (d + 1) + d * d + d + 2 * d + d * f + f + f * d + d)
    n += 2 * d  # final GroupNorm
    n += d * c + 2 * c  # 1x1 conv-BN back to C
    return n


def test_parameter_count_closed_form():
    for c, d, mult, f, layers, k in [(16, 24, 2.0, 48, 2, 3), (64, 40, 1.5, 48, 4, 5)]:
        m = cvattn.create(
            "mobilevitv2", channels=c, attn_dim=d, ffn_multiplier=mult, num_layers=layers, kernel_size=k
        )
        assert sum(p.numel() for p in m.parameters()) == _count(c, d, f, layers, k)
    # the official MobileViTBlockv2(in_channels=16, attn_unit_dim=24) has 9,618 parameters
    assert _count(16, 24, 48, 2, 3) == 9618


def _bn(y, bn):
    y = (y - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    return y * bn.weight[:, None, None] + bn.bias[:, None, None]


def _layer_norm_all(t, gn):
    """GroupNorm with one group: normalise each sample over all channels and positions."""
    mu = t.mean(dim=(1, 2, 3), keepdim=True)
    var = ((t - mu) ** 2).mean(dim=(1, 2, 3), keepdim=True)
    return (t - mu) / torch.sqrt(var + gn.eps) * gn.weight[:, None, None] + gn.bias[:, None, None]


def _lin(t, conv):
    """A 1x1 conv as a matrix product over the channel axis of (B, d, P, N)."""
    return torch.einsum("oi,bipn->bopn", conv.weight[:, :, 0, 0], t) + conv.bias[None, :, None, None]


def _reference(m, x, ph, pw):
    n, c, h, w = x.shape
    hh, ww = -(-h // ph) * ph, -(-w // pw) * pw
    xr = F.interpolate(x, size=(hh, ww), mode="bilinear", align_corners=True)
    z = _bn(F.conv2d(xr, m.conv_kxk.conv.weight, padding=1, groups=c), m.conv_kxk.bn)
    z = F.conv2d(z * torch.sigmoid(z), m.conv_1x1.weight)
    d = z.shape[1]
    # (B, d, P, N): the p-th row holds pixel (i, j) of every patch, p = i * pw + j
    t = torch.stack([z[:, :, i::ph, j::pw].flatten(2) for i in range(ph) for j in range(pw)], dim=2)
    for layer in m.layers:
        u = _lin(_layer_norm_all(t, layer.norm1), layer.attn.qkv)
        score, key, value = u[:, :1], u[:, 1 : 1 + d], u[:, 1 + d :]
        e = torch.exp(score - score.amax(-1, keepdim=True))
        c_s = e / e.sum(-1, keepdim=True)  # softmax over the patches
        c_v = (key * c_s).sum(-1, keepdim=True)
        t = t + _lin(torch.clamp(value, min=0) * c_v, layer.attn.proj)
        u = _lin(_layer_norm_all(t, layer.norm2), layer.fc1)
        t = t + _lin(u * torch.sigmoid(u), layer.fc2)
    t = _layer_norm_all(t, m.norm)
    folded = torch.zeros(n, d, hh, ww, dtype=x.dtype)
    for i in range(ph):
        for j in range(pw):
            folded[:, :, i::ph, j::pw] = t[:, :, i * pw + j].reshape(n, d, hh // ph, ww // pw)
    y = _bn(F.conv2d(folded, m.conv_proj.conv.weight), m.conv_proj.bn)
    return F.interpolate(y, size=(h, w), mode="bilinear", align_corners=True)


def test_matches_reference_on_resized_non_square_input():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 7, 10, dtype=torch.float64)  # resized to a multiple of the patch and back
    for patch in [2, (3, 2)]:
        m = cvattn.create("mobilevitv2", channels=8, attn_dim=12, ffn_multiplier=2.0, patch_size=patch)
        m = m.double().eval()
        g = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for bn in (m.conv_kxk.bn, m.conv_proj.bn):
                bn.running_mean.copy_(torch.randn(bn.running_mean.shape, generator=g, dtype=torch.float64))
                bn.running_var.copy_(torch.rand(bn.running_var.shape, generator=g, dtype=torch.float64) + 0.5)
            for p in m.parameters():
                p.add_(
                    0.1 * torch.randn(p.shape, generator=g, dtype=torch.float64)
                )  # non-trivial norm affines
        ph, pw = (patch, patch) if isinstance(patch, int) else patch
        torch.testing.assert_close(m(x), _reference(m, x, ph, pw))


def test_separable_attention_is_equivariant_to_patch_order():
    """One context vector per pixel position: permuting the patches permutes the output, nothing else."""
    torch.manual_seed(0)
    attn = cvattn.create("mobilevitv2", channels=16).layers[0].attn.double()
    t = torch.randn(2, 8, 4, 11, dtype=torch.float64)
    perm = torch.randperm(11)
    torch.testing.assert_close(attn(t[..., perm]), attn(t)[..., perm])


def test_unfold_and_fold_are_inverse():
    m = cvattn.create("mobilevitv2", channels=16, patch_size=(2, 3))
    x = torch.randn(2, 4, 4, 9)
    t = m.unfold(x)
    assert t.shape == (2, 4, 6, 6)
    torch.testing.assert_close(t[:, :, 1 * 3 + 2], x[:, :, 1::2, 2::3].flatten(2))
    assert torch.equal(m.fold(t, x), x)


def test_bad_arguments_raise_value_error():
    for kwargs in [{"attn_dim": 4}, {"kernel_size": 4}, {"num_layers": 0}]:
        with pytest.raises(ValueError):
            cvattn.create("mobilevitv2", channels=16, **kwargs)
