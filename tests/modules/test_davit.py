import pytest
import torch

import cvattn


def _count(c, bias):
    return 4 * c * c + c + (3 * c if bias else 0)  # qkv and proj (with bias)


def test_parameter_count_closed_form():
    for c, g, bias in [(64, 2, True), (96, 3, False)]:
        m = cvattn.create("davit", channels=c, num_heads=g, qkv_bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(c, bias)


def _reference(m, x):
    """Channel group attention with loops over groups: A = softmax(K^T V / sqrt(C_g)), out = proj((A Q^T)^T)."""
    n, c, hh, ww = x.shape
    g = m.num_heads
    cg = c // g
    t = x.reshape(n, c, hh * ww).transpose(1, 2)  # (N, L, C)
    qkv = t @ m.qkv.weight.T + m.qkv.bias
    q, k, v = qkv[..., :c], qkv[..., c : 2 * c], qkv[..., 2 * c :]
    out = torch.empty_like(t)
    for b in range(n):
        for i in range(g):
            sl = slice(i * cg, (i + 1) * cg)
            s = k[b, :, sl].T @ v[b, :, sl] / cg**0.5  # (C_g, C_g)
            a = torch.exp(s - s.max(dim=1, keepdim=True).values)
            a = a / a.sum(dim=1, keepdim=True)
            out[b, :, sl] = (a @ q[b, :, sl].T).T  # (L, C_g)
    y = out @ m.proj.weight.T + m.proj.bias
    return y.transpose(1, 2).reshape(n, c, hh, ww)


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("davit", channels=24, num_heads=3).double().eval()
    x = torch.randn(2, 24, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_groups_do_not_mix_before_the_projection():
    """Attention stays inside a group: with an identity projection, group 0's output ignores group 1's values."""
    torch.manual_seed(1)
    m = cvattn.create("davit", channels=8, num_heads=2, qkv_bias=False).double().eval()
    with torch.no_grad():
        m.proj.weight.copy_(torch.eye(8))
        m.proj.bias.zero_()
        m.qkv.weight.copy_(torch.eye(8).repeat(3, 1))  # q = k = v = x
    x = torch.randn(1, 8, 4, 5, dtype=torch.float64)
    x2 = x.clone()
    x2[:, 4:] = torch.randn(1, 4, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(m(x)[:, :4], m(x2)[:, :4])
    assert not torch.allclose(m(x)[:, 4:], m(x2)[:, 4:])


def test_bad_groups_raise():
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("davit", channels=10, num_heads=4)
