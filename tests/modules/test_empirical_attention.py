import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _count(c, heads, attention_type, pos_dim=None):
    t_qk, t_qr, t_k, t_r = (t == "1" for t in attention_type)
    inner = (c // heads) * heads
    pos_dim = pos_dim or c
    n = c * inner  # value projection
    n += c * inner if (t_qk or t_qr) else 0  # query projection
    n += c * inner if (t_qk or t_k) else 0  # key projection
    n += 2 * (pos_dim // 2) * inner if (t_qr or t_r) else 0  # W_x, W_y on the position embeddings
    n += inner if t_k else 0  # u
    n += inner if t_r else 0  # v
    return n + inner * c + c + 1  # output projection with bias, gamma


def test_parameter_count_closed_form():
    for c, heads, at in [(64, 9, "1111"), (256, 8, "0010"), (48, 8, "0101")]:
        m = cvattn.create("empirical-attention", channels=c, num_heads=heads, attention_type=at)
        assert sum(p.numel() for p in m.parameters()) == _count(c, heads, at)
    # (64, 9, '1111'): inner = 63; three projections, 2 * 32 * 63 position maps, u, v, output, gamma
    assert _count(64, 9, "1111") == 3 * 64 * 63 + 2 * 32 * 63 + 2 * 63 + 63 * 64 + 64 + 1


def _embedding(delta, dim):
    """Sinusoidal embedding of one offset by hand: [sin(delta / 1000^(4f/dim)), cos(...)] for f < dim/4."""
    f = [1000.0 ** (4.0 * i / dim) for i in range(dim // 4)]
    return torch.tensor(
        [math.sin(delta / s) for s in f] + [math.cos(delta / s) for s in f], dtype=torch.float64
    )


def _reference(m, x):
    """The official four-term generalised attention, one query and key at a time, in float64."""
    t_qk, t_qr, t_k, t_r = m.terms
    heads, d, s_q, s_kv, dim = m.num_heads, m.head_dim, m.q_stride, m.kv_stride, m.position_embedding_dim
    x_q, x_kv = x[:, :, ::s_q, ::s_q], x[:, :, ::s_kv, ::s_kv]
    n, h, w = x.shape[0], x_q.shape[2], x_q.shape[3]
    h_kv, w_kv = x_kv.shape[2], x_kv.shape[3]

    def project(conv, t):
        return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], t) if conv is not None else None

    q, k, val = project(m.query_conv, x_q), project(m.key_conv, x_kv), project(m.value_conv, x_kv)
    out = torch.zeros(n, heads * d, h, w, dtype=torch.float64)
    r = m.spatial_range
    for b in range(n):
        for yi in range(h):
            for xi in range(w):
                for g in range(heads):
                    sl = slice(g * d, (g + 1) * d)
                    logits = torch.full((h_kv, w_kv), float("-inf"), dtype=torch.float64)
                    for yj in range(h_kv):
                        for xj in range(w_kv):
                            if r >= 0 and not (
                                (yi - r) // s_kv <= yj <= (yi + r + 1) // s_kv
                                and (xi - r) // s_kv <= xj <= (xi + r + 1) // s_kv
                            ):
                                continue
                            e = 0.0
                            if t_qr or t_r:
                                e_x = _embedding(xi * s_q - xj * s_kv, dim)
                                e_y = _embedding(yi * s_q - yj * s_kv, dim)
                                rel = (
                                    m.appr_geom_fc_x.weight @ e_x + m.appr_geom_fc_y.weight @ e_y
                                ) / math.sqrt(2)
                            if t_qk:
                                e = e + q[b, sl, yi, xi] @ k[b, sl, yj, xj]
                            if t_qr:
                                e = e + q[b, sl, yi, xi] @ rel[sl]
                            if t_k:
                                e = e + m.appr_bias[sl] @ k[b, sl, yj, xj]
                            if t_r:
                                e = e + m.geom_bias[sl] @ rel[sl]
                            logits[yj, xj] = e
                    attn = torch.softmax(logits.flatten(), 0)
                    assert abs(attn.sum().item() - 1.0) < 1e-12
                    out[b, sl, yi, xi] = val[b, sl].flatten(1) @ attn
    y = torch.einsum("oc,nchw->nohw", m.proj_conv.weight[:, :, 0, 0], out) + m.proj_conv.bias[:, None, None]
    if s_q > 1:
        y = F.interpolate(y, size=x.shape[2:], mode="bilinear", align_corners=False)
    return x + m.gamma * y


@pytest.mark.parametrize(
    "attention_type, kw",
    [
        ("1111", {}),
        ("1000", {}),
        ("0100", {}),
        ("0010", {}),
        ("0001", {}),
        ("1010", {}),
        ("0101", {}),
        ("0110", {"q_stride": 2}),
        ("1111", {"spatial_range": 1}),
        ("0010", {"spatial_range": 2, "kv_stride": 1}),
    ],
)
def test_matches_official_four_term_reference(attention_type, kw):
    torch.manual_seed(0)
    m = cvattn.create("empirical-attention", channels=8, num_heads=2, attention_type=attention_type, **kw)
    m = m.double().eval()
    x = torch.randn(2, 8, 5, 6, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_registered_defaults_follow_mmcv():
    m = cvattn.create("empirical-attention", channels=256)
    assert (m.num_heads, m.kv_stride, m.q_stride, m.spatial_range, m.attention_type) == (9, 2, 1, -1, "1111")
    assert m.head_dim == 28 and m.position_embedding_dim == 256
    assert cvattn.create("empirical-attention", channels=256, zero_init=True).gamma.item() == 0.0
    assert cvattn.create("empirical-attention-0010", channels=256).query_conv is None


def test_narrow_input_gets_one_channel_per_head():
    m = cvattn.create("empirical-attention", channels=8)
    assert m.num_heads == 8 and m.head_dim == 1
    x = torch.randn(2, 8, 9, 7)
    assert m(x).shape == x.shape
    assert cvattn.create("empirical-attention", channels=256).num_heads == 9
