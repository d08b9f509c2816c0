import pytest
import torch

import cvattn


def _count_parallel(c):
    i = c // 2
    return c + c * i + i * c + 2 * c * i  # W_q (C->1), W_v, W_z, and the spatial W_q', W_v' (no biases)


def _count_sequential(c, r):
    i, h = c // 2, (c // 2) // r
    bottleneck = i * h + h + 2 * h + h * c + c  # conv with bias, LayerNorm([h, 1, 1]), conv with bias
    return c + c * i + bottleneck + 2 * c * i


def _n(m):
    return sum(p.numel() for p in m.parameters())


def test_parameter_count_closed_form():
    for c in (64, 30):
        assert _n(cvattn.create("polarized-self-attention", channels=c)) == _count_parallel(c)
    for c, r in ((64, 4), (48, 2)):
        m = cvattn.create("polarized-self-attention-sequential", channels=c, reduction=r)
        assert _n(m) == _count_sequential(c, r)


def _w(conv):
    return conv.weight[:, :, 0, 0]


def _softmax(z, dim):
    e = torch.exp(z - z.amax(dim, keepdim=True))
    return e / e.sum(dim, keepdim=True)


def _sigmoid(z):
    return 1 / (1 + torch.exp(-z))


def _channel_gate(x, wq, wv, wz):
    q = _softmax(torch.einsum("oc,nchw->nhw", _w(wq), x).flatten(1), 1)  # (N, HW)
    v = torch.einsum("oc,nchw->nohw", _w(wv), x).flatten(2)  # (N, C/2, HW)
    z = torch.einsum("nop,np->no", v, q)
    return _sigmoid(wz(z))  # (N, C)


def test_parallel_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("polarized-self-attention", channels=12).double().eval()
    x = torch.randn(2, 12, 5, 7, dtype=torch.float64)
    a_ch = _channel_gate(x, m.ch_wq, m.ch_wv, lambda z: z @ _w(m.ch_wz).T)
    g = torch.einsum("oc,nchw->no", _w(m.sp_wq), x) / 35  # global average of W_q' x
    s = torch.einsum("no,oc,nchw->nhw", g, _w(m.sp_wv), x).flatten(1)
    a_sp = _sigmoid(_softmax(s, 1)).reshape(2, 1, 5, 7)
    torch.testing.assert_close(m(x), x * a_ch[:, :, None, None] + x * a_sp)


def test_sequential_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("polarized-self-attention-sequential", channels=16, reduction=2).double().eval()
    x = torch.randn(2, 16, 6, 5, dtype=torch.float64)
    conv1, ln, _, conv2 = m.ch_wz

    def wz(z):
        h = z @ _w(conv1).T + conv1.bias
        mu, var = h.mean(1, keepdim=True), h.var(1, unbiased=False, keepdim=True)
        h = (h - mu) / torch.sqrt(var + ln.eps) * ln.weight.flatten() + ln.bias.flatten()
        return h.clamp_min(0) @ _w(conv2).T + conv2.bias

    y = x * _channel_gate(x, m.ch_wq, m.ch_wv, wz)[:, :, None, None]
    g = torch.einsum("oc,nchw->no", _w(m.sp_wq), y) / 30
    v = _softmax(torch.einsum("oc,nchw->nohw", _w(m.sp_wv), y).flatten(2), 2)  # softmax over positions
    a_sp = _sigmoid(torch.einsum("no,nop->np", g, v)).reshape(2, 1, 6, 5)
    torch.testing.assert_close(m(x), y * a_sp)


def test_gates_lie_in_open_unit_interval():
    # the parallel output is (a_ch + a_sp) * x with both gates in (0, 1)
    torch.manual_seed(1)
    m = cvattn.create("polarized-self-attention", channels=8).eval()
    x = torch.rand(1, 8, 4, 4) + 0.5
    ratio = m(x) / x
    assert (ratio > 0).all() and (ratio < 2).all()


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        cvattn.create("polarized-self-attention", channels=1)
    with pytest.raises(ValueError):
        cvattn.create("polarized-self-attention-sequential", channels=8, reduction=8)  # (8 // 2) // 8 == 0
