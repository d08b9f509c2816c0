import torch

import cvattn


def _count(c, k):
    # 1x1 projection (no bias) + its BN, codewords and smoothing factors, BN over the K codes, gate Linear
    return c * c + 2 * c + k * c + k + 2 * k + c * c + c


def test_parameter_count_closed_form():
    for c, k in [(64, 32), (512, 32), (24, 5)]:
        m = cvattn.create("encnet", channels=c, num_codes=k)
        assert sum(p.numel() for p in m.parameters()) == _count(c, k)


def _reference(m, x):
    """The paper's equations with the official sign convention: a_ik = softmax_k(s_k ||x_i - d_k||^2)."""
    n, c, h, w = x.shape
    bn = m.proj_bn
    f = torch.einsum("oc,nchw->nohw", m.proj.weight[:, :, 0, 0], x)
    f = (f - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    f = torch.clamp(f * bn.weight[:, None, None] + bn.bias[:, None, None], min=0)
    feats = f.reshape(n, c, h * w).permute(0, 2, 1)  # (N, M, C)
    resid = feats[:, :, None, :] - m.codewords[None, None]  # r_ik: (N, M, K, C)
    logits = m.scale * (resid**2).sum(-1)  # (N, M, K)
    a = torch.exp(logits - logits.max(-1, keepdim=True).values)
    a = a / a.sum(-1, keepdim=True)
    codes = (a[..., None] * resid).sum(1)  # e_k: (N, K, C)
    cb = m.code_bn
    codes = (codes - cb.running_mean[:, None]) / torch.sqrt(cb.running_var[:, None] + cb.eps)
    codes = torch.clamp(codes * cb.weight[:, None] + cb.bias[:, None], min=0)
    e = codes.mean(1)  # (N, C)
    gamma = 1 / (1 + torch.exp(-(e @ m.fc.weight.T + m.fc.bias)))
    return torch.clamp(x + x * gamma[:, :, None, None], min=0)


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("encnet", channels=12, num_codes=7).double().eval()
    with torch.no_grad():
        for bn in (m.proj_bn, m.code_bn):
            bn.running_mean.normal_(0, 0.2)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_(0, 0.2)
    x = torch.randn(2, 12, 5, 9, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_gate_rescales_each_channel_by_one_to_two():
    # positive input: ReLU(x + x * gamma) = x (1 + gamma), one factor per channel
    torch.manual_seed(1)
    m = cvattn.create("encnet", channels=6, num_codes=1).double().eval()
    x = torch.randn(1, 6, 4, 3, dtype=torch.float64).abs()
    y = m(x)
    ratio = y / x
    assert torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio))
    assert bool((ratio > 1).all() and (ratio < 2).all())
