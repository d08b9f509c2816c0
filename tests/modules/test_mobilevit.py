import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, d, f, layers, k, fusion):
    n = c * c * k * k + 2 * c  # local k x k conv + BN
    n += c * d  # 1x1 projection to d (no bias, no norm)
    n += layers * (4 * d * d + 2 * d * f + 9 * d + f)  # LN, qkv, proj, LN, fc1, fc2 (all with biases)
    n += 2 * d  # final LayerNorm
    n += d * c + 2 * c  # 1x1 conv-BN back to C
    if fusion:
        n += 2 * c * c * k * k + 2 * c  # k x k fusion conv-BN on [x, y]
    return n


def test_parameter_count_closed_form():
    for c, d, f, layers, k, fusion in [(16, 24, 48, 2, 3, True), (64, 96, 160, 4, 5, False)]:
        m = cvattn.create(
            "mobilevit",
            channels=c,
            transformer_dim=d,
            ffn_dim=f,
            num_layers=layers,
            kernel_size=k,
            fusion=fusion,
        )
        assert sum(p.numel() for p in m.parameters()) == _count(c, d, f, layers, k, fusion)
    # the official MobileViTBlock(in_channels=16, transformer_dim=24, ffn_dim=48) has 17,568 parameters
    assert _count(16, 24, 48, 2, 3, True) == 17568


def _conv_bn_silu(x, block, padding, dilation=1):
    y = F.conv2d(x, block.conv.weight, None, padding=padding, dilation=dilation)
    bn = block.bn
    y = (y - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    y = y * bn.weight[:, None, None] + bn.bias[:, None, None]
    return y * torch.sigmoid(y)


def _layer_norm(t, norm):
    mu = t.mean(-1, keepdim=True)
    var = ((t - mu) ** 2).mean(-1, keepdim=True)
    return (t - mu) / torch.sqrt(var + norm.eps) * norm.weight + norm.bias


def _reference(m, x, heads, ph, pw):
    """The paper's block with explicit strided sub-grids, softmax and loops over the pixel positions."""
    n, c, h, w = x.shape
    x_l = F.conv2d(_conv_bn_silu(x, m.conv_kxk, 1), m.conv_1x1.weight)
    hh, ww = -(-h // ph) * ph, -(-w // pw) * pw
    x_r = F.interpolate(x_l, size=(hh, ww), mode="bilinear", align_corners=False)
    d = x_r.shape[1]
    folded = torch.zeros_like(x_r)
    for i in range(ph):
        for j in range(pw):
            t = (
                x_r[:, :, i::ph, j::pw].flatten(2).transpose(1, 2)
            )  # (N, patches, d): pixel (i, j) of every patch
            for layer in m.transformer:
                z = _layer_norm(t, layer.norm1) @ layer.qkv.weight.T + layer.qkv.bias
                q, k, v = (z[..., s * d : (s + 1) * d].reshape(n, -1, heads, d // heads) for s in range(3))
                logits = torch.einsum("bqhe,bkhe->bhqk", q, k) / (d // heads) ** 0.5
                attn = torch.exp(logits - logits.amax(-1, keepdim=True))
                attn = attn / attn.sum(-1, keepdim=True)
                y = torch.einsum("bhqk,bkhe->bqhe", attn, v).reshape(n, -1, d)
                t = t + y @ layer.proj.weight.T + layer.proj.bias
                u = _layer_norm(t, layer.norm2) @ layer.fc1.weight.T + layer.fc1.bias
                t = t + (u * torch.sigmoid(u)) @ layer.fc2.weight.T + layer.fc2.bias
            t = _layer_norm(t, m.norm)
            folded[:, :, i::ph, j::pw] = t.transpose(1, 2).reshape(n, d, hh // ph, ww // pw)
    folded = F.interpolate(folded, size=(h, w), mode="bilinear", align_corners=False)
    y = _conv_bn_silu(folded, m.conv_proj, 0)
    return _conv_bn_silu(torch.cat((x, y), 1), m.fusion, 1)


def _randomise_bn(m):
    g = torch.Generator().manual_seed(1)
    for bn in (m.conv_kxk.bn, m.conv_proj.bn, m.fusion.bn):
        bn.running_mean.copy_(torch.randn(bn.running_mean.shape, generator=g, dtype=bn.running_mean.dtype))
        bn.running_var.copy_(torch.rand(bn.running_var.shape, generator=g, dtype=bn.running_var.dtype) + 0.5)


def test_matches_reference_on_resized_non_square_input():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 7, 10, dtype=torch.float64)  # 7 is no multiple of 2: resized to 8 x 10 and back
    for heads, patch in [(4, 2), (2, (3, 2))]:
        m = cvattn.create(
            "mobilevit", channels=8, transformer_dim=12, ffn_dim=20, num_heads=heads, patch_size=patch
        )
        m = m.double().eval()
        with torch.no_grad():
            _randomise_bn(m)
        ph, pw = (patch, patch) if isinstance(patch, int) else patch
        torch.testing.assert_close(m(x), _reference(m, x, heads, ph, pw))


def test_unfold_gives_one_sequence_per_pixel_position_and_fold_inverts_it():
    m = cvattn.create("mobilevit", channels=8, transformer_dim=12, patch_size=(2, 3))
    x = torch.randn(2, 12, 4, 9)
    t = m.unfold(x)  # (2 * 6, 2 * 3, 12)
    assert t.shape == (12, 6, 12)
    for i in range(2):
        for j in range(3):
            torch.testing.assert_close(
                t.view(2, 2, 3, 6, 12)[:, i, j], x[:, :, i::2, j::3].flatten(2).transpose(1, 2)
            )
    assert torch.equal(m.fold(t, x), x)


def test_bad_arguments_raise_value_error():
    for kwargs in [{"transformer_dim": 10, "num_heads": 4}, {"kernel_size": 2}, {"patch_size": 0}]:
        with pytest.raises(ValueError):
            cvattn.create("mobilevit", channels=8, **kwargs)
