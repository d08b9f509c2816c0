import torch
import torch.nn.functional as F
from torch import nn

import cvattn


def _count(c, r, n_extra, k):
    h = int(c / r)
    n = (c * h + h) + (h * c + c)  # global pathway: two linear layers with bias
    n += (c * h + h) + n_extra * (h * h * k * k + h) + (h + 1)  # local pathway convolutions with bias
    return n + 2 * c  # alpha and beta


def test_parameter_count_closed_form():
    for c, r, n_extra, k in [(64, 4, 1, 5), (96, 8, 0, 5), (30, 4, 2, 3)]:
        m = cvattn.create("gala", channels=c, reduction=r, extra_convs=n_extra, extra_kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == _count(c, r, n_extra, k)


def _reference(m, x, squash):
    n, c, h, w = x.shape
    pooled = x.sum((2, 3)) / (h * w)
    g = torch.clamp(pooled @ m.fc1.weight.T + m.fc1.bias, min=0)
    g = torch.clamp(g @ m.fc2.weight.T + m.fc2.bias, min=0)  # (N, C)
    conv1, conv_k, conv_out = m.local[0], m.local[2], m.local[4]
    t = torch.clamp(
        torch.einsum("oc,nchw->nohw", conv1.weight[:, :, 0, 0], x) + conv1.bias[:, None, None], min=0
    )
    k = conv_k.weight.shape[-1]
    tp = F.pad(t, (k // 2,) * 4)
    u = torch.zeros_like(t)
    for i in range(k):  # explicit "same" correlation
        for j in range(k):
            u = u + torch.einsum("oc,nchw->nohw", conv_k.weight[:, :, i, j], tp[:, :, i : i + h, j : j + w])
    u = torch.clamp(u + conv_k.bias[:, None, None], min=0)
    s = (
        torch.einsum("oc,nchw->nohw", conv_out.weight[:, :, 0, 0], u) + conv_out.bias[:, None, None]
    )  # (N, 1, H, W)
    gb = g[:, :, None, None]
    logits = m.alpha[:, None, None] * (gb + s) + m.beta[:, None, None] * (gb * s)
    return x * squash(logits)


def test_matches_reference_sigmoid_and_tanh():
    torch.manual_seed(0)
    x = torch.randn(2, 12, 5, 9, dtype=torch.float64)
    for layer, squash in ((nn.Sigmoid, torch.sigmoid), (nn.Tanh, torch.tanh)):
        m = cvattn.create("gala", channels=12, reduction=3, gate_layer=layer).double().eval()
        torch.testing.assert_close(m(x), _reference(m, x, squash))


def test_attention_varies_over_positions_and_channels():
    torch.manual_seed(2)
    m = cvattn.create("gala", channels=8, reduction=2).double().eval()
    x = torch.randn(1, 8, 6, 7, dtype=torch.float64)
    attn = m(x) / x
    assert attn.std((2, 3)).min() > 0  # spatially varying (local pathway)
    assert attn.std(1).min() > 0  # channel-varying (global pathway and per-channel weights)
