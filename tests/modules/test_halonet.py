import torch

import cvattn


def _count(c, heads, b, h):
    # q, k, v 1x1 projections without bias, plus height and width tables of 2(b + h) - 1 offsets, d = c / heads
    return 3 * c * c + 2 * (2 * (b + h) - 1) * (c // heads)


def test_parameter_count_closed_form():
    for c, heads, b, h in [(64, 8, 8, 3), (96, 4, 4, 2)]:
        m = cvattn.create("halonet", channels=c, heads=heads, block_size=b, halo_size=h)
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, b, h)


def _reference(m, x):
    """Pixel by pixel: query (i, j) attends to the pixels of the image inside its block's haloed window."""
    n, c, hh, ww = x.shape
    heads, d = m.heads, c // m.heads
    b, halo = m.block_size, m.halo_size
    wq, wk, wv = m.qkv.weight[:, :, 0, 0].split(c)
    t = x.permute(0, 2, 3, 1)  # (N, H, W, C)
    q = (t @ wq.T).reshape(n, hh, ww, heads, d)
    k = (t @ wk.T).reshape(n, hh, ww, heads, d)
    v = (t @ wv.T).reshape(n, hh, ww, heads, d)
    y = torch.zeros(n, hh, ww, heads, d, dtype=x.dtype)
    for i in range(hh):
        for j in range(ww):
            top, left = (i // b) * b - halo, (j // b) * b - halo
            rows = [a for a in range(top, top + b + 2 * halo) if 0 <= a < hh]
            cols = [e for e in range(left, left + b + 2 * halo) if 0 <= e < ww]
            logits, values = [], []
            for a in rows:
                for e in cols:
                    r = m.rel_height[a - i + b + halo - 1] + m.rel_width[e - j + b + halo - 1]  # (d,)
                    logits.append(m.scale * (q[:, i, j] * (k[:, a, e] + r)).sum(-1))  # (N, heads)
                    values.append(v[:, a, e])
            logits = torch.stack(logits, -1)  # (N, heads, keys)
            attn = torch.exp(logits - logits.amax(-1, keepdim=True))
            attn = attn / attn.sum(-1, keepdim=True)
            y[:, i, j] = torch.einsum("nhk,knhd->nhd", attn, torch.stack(values))
    return y.reshape(n, hh, ww, c).permute(0, 3, 1, 2)


def test_matches_reference_with_padding():
    torch.manual_seed(0)
    m = cvattn.create("halonet", channels=16, heads=4, block_size=4, halo_size=1).double().eval()
    for size in [(7, 10), (8, 4)]:  # padded to 8 x 12, and an exact multiple of the block
        x = torch.randn(2, 16, *size, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_unscaled_logits_and_zero_halo():
    torch.manual_seed(1)
    m = cvattn.create("halonet", channels=8, heads=2, block_size=3, halo_size=0, scale=1.0).double().eval()
    x = torch.randn(1, 8, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_block_sees_only_its_haloed_window():
    torch.manual_seed(2)
    m = cvattn.create("halonet", channels=8, heads=2, block_size=4, halo_size=1).double().eval()
    x = torch.randn(1, 8, 12, 12, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, 6:, :] += 1.0  # rows 6..11 lie outside the window (rows 0..4) of the top blocks
    y, y2 = m(x), m(x2)
    torch.testing.assert_close(y[:, :, :4], y2[:, :, :4])
    assert not torch.allclose(y[:, :, 4:8], y2[:, :, 4:8])  # the middle blocks' halo reaches row 8
