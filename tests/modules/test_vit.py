import torch

import cvattn


def _count(c, qkv_bias=True):
    return 3 * c * c + (3 * c if qkv_bias else 0) + c * c + c  # qkv + proj


def test_parameter_count_closed_form():
    for c, h, bias in [(128, 2, True), (768, 12, True), (96, 3, False)]:
        mod = cvattn.create("vit", channels=c, num_heads=h, qkv_bias=bias)
        assert sum(p.numel() for p in mod.parameters()) == _count(c, bias)


def _reference(mod, x):
    n, c, hh, ww = x.shape
    h, d = mod.num_heads, c // mod.num_heads
    z = x.reshape(n, c, hh * ww).permute(0, 2, 1)  # token i * W + j is pixel (i, j)
    qkv = torch.einsum("nlc,oc->nlo", z, mod.qkv.weight) + mod.qkv.bias
    q, k, v = (qkv[..., i * c : (i + 1) * c].reshape(n, -1, h, d) for i in range(3))
    logits = torch.einsum("nqhd,nkhd->nhqk", q, k) / d**0.5
    e = torch.exp(logits - logits.amax(-1, keepdim=True))
    attn = e / e.sum(-1, keepdim=True)
    y = torch.einsum("nhqk,nkhd->nqhd", attn, v).reshape(n, -1, c)
    y = y @ mod.proj.weight.T + mod.proj.bias
    return y.permute(0, 2, 1).reshape(n, c, hh, ww)


def test_matches_reference_non_square():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    mod = cvattn.create("vit", channels=16, num_heads=4).double().eval()
    with torch.no_grad():
        for p in mod.parameters():
            p.normal_(0, 0.5)
    torch.testing.assert_close(mod(x), _reference(mod, x))


def test_global_and_permutation_equivariant():
    torch.manual_seed(0)
    mod = cvattn.create("vit", channels=16, num_heads=2).eval()
    x = torch.randn(1, 16, 6, 9)
    with torch.no_grad():
        # no position information: permuting the positions permutes the output
        torch.testing.assert_close(mod(x.flip(-1)), mod(x).flip(-1))
        torch.testing.assert_close(mod(x.transpose(2, 3)), mod(x).transpose(2, 3))
        # global: one pixel changes every output position
        x2 = x.clone()
        x2[:, :, 0, 0] += 1.0
        assert ((mod(x2) - mod(x)).abs().sum(1) > 0).all()
