import torch

import cvattn


def _count(c, bias):
    branches = 3 * c * c + (3 * c if bias else 0)  # W_H, W_W, W_C
    reweight = c * (c // 4) + c // 4 + (c // 4) * 3 * c + 3 * c  # C -> C/4 -> 3C
    return branches + reweight + c * c + c  # + output projection


def test_parameter_count_closed_form():
    for c, g, bias in [(64, 8, False), (48, 6, True)]:
        m = cvattn.create("vision-permutator", channels=c, segment_dim=g, qkv_bias=bias)
        assert sum(p.numel() for p in m.parameters()) == _count(c, bias)


def _linear(lin, v):
    out = v @ lin.weight.T
    return out if lin.bias is None else out + lin.bias


def _reference(m, x):
    """Explicit per-window gathering of the (position, segment-channel) vectors the paper's branches mix."""
    n, c, hh, ww = x.shape
    g = m.segment_dim
    s = c // g
    t = x.permute(0, 2, 3, 1)  # (N, H, W, C), channel k * S + j is element j of segment k
    gh, gw = -(-hh // g), -(-ww // g)
    tp = torch.zeros(n, gh * g, gw * g, c, dtype=x.dtype)
    tp[:, :hh, :ww] = t
    x_h = torch.zeros_like(tp)
    x_w = torch.zeros_like(tp)
    for k in range(g):  # segment
        seg = tp[..., k * s : (k + 1) * s]  # (N, H', W', S)
        for b in range(gh):  # run of g rows: vector index = row * S + j
            rows = seg[:, b * g : (b + 1) * g]  # (N, g, W', S)
            vec = rows.permute(0, 2, 1, 3).reshape(n, gw * g, g * s)
            out = _linear(m.mlp_h, vec).reshape(n, gw * g, g, s).permute(0, 2, 1, 3)
            x_h[:, b * g : (b + 1) * g, :, k * s : (k + 1) * s] = out
        for b in range(gw):  # run of g columns
            cols = seg[:, :, b * g : (b + 1) * g]  # (N, H', g, S)
            out = _linear(m.mlp_w, cols.reshape(n, gh * g, g * s)).reshape(n, gh * g, g, s)
            x_w[:, :, b * g : (b + 1) * g, k * s : (k + 1) * s] = out
    x_h, x_w = x_h[:, :hh, :ww], x_w[:, :hh, :ww]
    x_c = _linear(m.mlp_c, t)
    mean = (x_h + x_w + x_c).mean(dim=(1, 2))
    r = m.reweight
    logits = _linear(r[2], torch.nn.functional.gelu(_linear(r[0], mean))).reshape(n, c, 3)
    a = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)  # softmax over the three branches
    fused = x_h * a[:, None, None, :, 0] + x_w * a[:, None, None, :, 1] + x_c * a[:, None, None, :, 2]
    return _linear(m.proj, fused).permute(0, 3, 1, 2)


def test_matches_reference_at_native_and_padded_sizes():
    torch.manual_seed(0)
    m = cvattn.create("vision-permutator", channels=12, segment_dim=3, qkv_bias=True).double().eval()
    for size in [(3, 3), (5, 7)]:
        x = torch.randn(2, 12, *size, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_identity_branches_reduce_to_the_output_projection():
    # with W_H, W_W, W_C = I the three branches equal x, and the softmax weights sum to one
    torch.manual_seed(1)
    m = cvattn.create("vision-permutator", channels=8, segment_dim=4).double().eval()
    with torch.no_grad():
        for lin in (m.mlp_h, m.mlp_w, m.mlp_c):
            lin.weight.copy_(torch.eye(8))
    x = torch.randn(1, 8, 4, 4, dtype=torch.float64)
    expected = _linear(m.proj, x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    torch.testing.assert_close(m(x), expected)
