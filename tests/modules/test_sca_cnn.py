import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    for c, d, k in [(64, 32, 512), (128, 100, 64)]:
        sp = cvattn.create("sca-cnn-spatial", channels=c, query_channels=d, attn_channels=k)
        ch = cvattn.create("sca-cnn-channel", channels=c, query_channels=d, attn_channels=k)
        assert sum(p.numel() for p in sp.parameters()) == c * k + k + d * k + k
        assert sum(p.numel() for p in ch.parameters()) == 2 * k + d * k + k


def test_spatial_matches_loop_reference():
    m = cvattn.create("sca-cnn-spatial", channels=6, query_channels=5, attn_channels=7).double()
    x, h = torch.randn(2, 6, 3, 4, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    ws, bs = m.w_s.weight.flatten(1), m.w_s.bias
    logits = torch.zeros(2, 12, dtype=torch.float64)
    for n in range(2):
        for i in range(12):
            v = x[n].reshape(6, 12)[:, i]
            a = torch.tanh(ws @ v + bs + m.w_hs.weight @ h[n])
            logits[n, i] = m.w_i.weight.flatten() @ a
    alpha = torch.exp(logits) / torch.exp(logits).sum(1, keepdim=True)
    torch.testing.assert_close(alpha.sum(1), torch.ones(2, dtype=torch.float64))
    torch.testing.assert_close(m(x, h), x * alpha.reshape(2, 1, 3, 4) * 12)
    torch.testing.assert_close(m(x, h[:, :, None, None]), m(x, h))  # (N, d, 1, 1) queries too


def test_channel_matches_loop_reference():
    m = cvattn.create(
        "sca-cnn-channel", channels=6, query_channels=5, attn_channels=7, rescale=False
    ).double()
    torch.nn.init.normal_(m.b_c)
    x, h = torch.randn(2, 6, 3, 4, dtype=torch.float64), torch.randn(2, 5, dtype=torch.float64)
    logits = torch.zeros(2, 6, dtype=torch.float64)
    for n in range(2):
        q = m.w_hc.weight @ h[n]
        for c in range(6):
            b = torch.tanh(m.w_c * x[n, c].mean() + m.b_c + q)
            logits[n, c] = m.w_i.weight.flatten() @ b
    beta = torch.softmax(logits, 1)
    torch.testing.assert_close(m(x, h), x * beta[:, :, None, None])


def test_bad_query_raises():
    m = cvattn.create("sca-cnn-spatial")
    with pytest.raises(ValueError, match="expected"):
        m(torch.randn(2, 64, 7, 7), torch.randn(2, 31))
