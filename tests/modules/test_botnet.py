import torch

import cvattn


def _count(c, heads, fh, fw):
    # q, k, v 1x1 projections without bias, plus the height and width relative tables of d = c / heads
    return 3 * c * c + (2 * fh - 1 + 2 * fw - 1) * (c // heads)


def test_parameter_count_closed_form():
    for c, heads, size in [(64, 4, (14, 14)), (96, 8, (7, 10))]:
        m = cvattn.create("botnet", channels=c, heads=heads, feat_size=size)
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, *size)


def _reference(m, x):
    """Eq. of the paper, pixel by pixel: l = (q.k + q.r_h[a-i] + q.r_w[b-j]) / sqrt(d), softmax over keys."""
    n, c, hh, ww = x.shape
    heads, d = m.heads, c // m.heads
    fh, fw = m.feat_size
    wq, wk, wv = m.qkv.weight[:, :, 0, 0].split(c)
    t = x.permute(0, 2, 3, 1).reshape(n, hh * ww, c)
    q = (t @ wq.T).reshape(n, hh * ww, heads, d)
    k = (t @ wk.T).reshape(n, hh * ww, heads, d)
    v = (t @ wv.T).reshape(n, hh * ww, heads, d)
    logits = torch.zeros(n, heads, hh * ww, hh * ww, dtype=x.dtype)
    for i in range(hh):
        for j in range(ww):
            for a in range(hh):
                for b in range(ww):
                    dh = min(max(a - i, 1 - fh), fh - 1) + fh - 1
                    dw = min(max(b - j, 1 - fw), fw - 1) + fw - 1
                    key = k[:, a * ww + b] + m.rel_height[dh] + m.rel_width[dw]  # (N, heads, d)
                    logits[:, :, i * ww + j, a * ww + b] = (q[:, i * ww + j] * key).sum(-1) / d**0.5
    attn = torch.exp(logits - logits.amax(-1, keepdim=True))
    attn = attn / attn.sum(-1, keepdim=True)
    y = torch.einsum("nhqk,nkhd->nqhd", attn, v).reshape(n, hh * ww, c)
    return y.transpose(1, 2).reshape(n, c, hh, ww)


def test_matches_reference_at_feat_size():
    torch.manual_seed(0)
    m = cvattn.create("botnet", channels=16, heads=4, feat_size=(4, 5)).double().eval()
    x = torch.randn(2, 16, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_smaller_and_larger_maps_use_centre_and_clipped_offsets():
    torch.manual_seed(1)
    m = cvattn.create("botnet", channels=8, heads=2, feat_size=(3, 4)).double().eval()
    for size in [(2, 3), (5, 6)]:
        x = torch.randn(1, 8, *size, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_relative_logits_are_translation_invariant():
    # with zero projections of keys, logits depend only on the offset: a shifted query sees shifted weights
    torch.manual_seed(2)
    m = cvattn.create("botnet", channels=8, heads=1, feat_size=(6, 6)).double().eval()
    with torch.no_grad():
        m.qkv.weight[8:16].zero_()
    x = torch.ones(1, 8, 6, 6, dtype=torch.float64)
    q = m.qkv.weight[:8, :, 0, 0] @ x[0, :, 0, 0] * m.scale
    bias = m.relative_logits(q.expand(1, 1, 6, 6, 8), x)[0, 0].reshape(6, 6, 6, 6)
    torch.testing.assert_close(bias[1, 1, 2:, 2:], bias[0, 0, 1:5, 1:5])
