import torch

import cvattn


def _count(c, h, bias):
    n = 3 * c * c + c * c + c + h  # qkv, proj (with bias), temperature per head
    return n + 3 * c if bias else n


def test_parameter_count_closed_form():
    for c, h, bias in [(64, 8, True), (96, 4, False)]:
        m = cvattn.create("xcit", channels=c, num_heads=h, qkv_bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(c, h, bias)


def _reference(m, x):
    """The paper's XCA with explicit loops over heads: A = softmax(tau * Qn^T Kn), out = proj(V A^T)."""
    n, c, hh, ww = x.shape
    h, d = m.num_heads, c // m.num_heads
    t = x.reshape(n, c, hh * ww).transpose(1, 2)  # (N, L, C), token i*W + j
    qkv = t @ m.qkv.weight.T + m.qkv.bias
    q, k, v = qkv[..., :c], qkv[..., c : 2 * c], qkv[..., 2 * c :]
    out = torch.empty_like(t)
    for b in range(n):
        for head in range(h):
            sl = slice(head * d, (head + 1) * d)
            qh, kh, vh = q[b, :, sl], k[b, :, sl], v[b, :, sl]  # (L, d)
            qn = qh / qh.norm(dim=0, keepdim=True).clamp_min(1e-12)
            kn = kh / kh.norm(dim=0, keepdim=True).clamp_min(1e-12)
            logits = m.temperature[head, 0, 0] * (qn.T @ kn)  # (d, d): query channel x key channel
            attn = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
            attn = attn / attn.sum(dim=1, keepdim=True)
            out[b, :, sl] = vh @ attn.T  # (L, d)
    y = out @ m.proj.weight.T + m.proj.bias
    return y.transpose(1, 2).reshape(n, c, hh, ww)


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("xcit", channels=16, num_heads=4).double().eval()
    with torch.no_grad():
        m.temperature.copy_(torch.tensor([0.5, 1.0, 2.0, 3.0]).view(4, 1, 1))
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_token_permutation_equivariance():
    """Token permutation equivariance: XCA mixes channels, so permuting pixels permutes the output alike."""
    torch.manual_seed(1)
    m = cvattn.create("xcit", channels=16, num_heads=2).double().eval()
    x = torch.randn(1, 16, 6, 4, dtype=torch.float64)
    perm = torch.randperm(24)
    xp = x.flatten(2)[..., perm].reshape_as(x)
    torch.testing.assert_close(m(xp).flatten(2), m(x).flatten(2)[..., perm])


def test_bad_heads_raise():
    import pytest

    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("xcit", channels=10, num_heads=4)
