import torch
import torch.nn.functional as F

import cvattn


def _count(c):
    depthwise_5x5 = 25 * c + c
    strips = sum(2 * (k * c + c) for k in (7, 11, 21))  # a 1xk and a kx1 depthwise conv per branch
    return depthwise_5x5 + strips + c * c + c


def test_parameter_count_closed_form():
    for c in (64, 10):
        m = cvattn.create("segnext", channels=c)
        assert sum(p.numel() for p in m.parameters()) == _count(c) == c * c + 111 * c


def _depthwise(x, conv):
    """Zero-padded 'same' depthwise convolution as a sum of shifted copies, one per kernel tap."""
    kh, kw = conv.weight.shape[-2:]
    xp = F.pad(x, (kw // 2, kw // 2, kh // 2, kh // 2))
    h, w = x.shape[-2:]
    out = torch.zeros_like(x) + conv.bias[None, :, None, None]
    for i in range(kh):
        for j in range(kw):
            out = out + conv.weight[None, :, 0, i, j, None, None] * xp[:, :, i : i + h, j : j + w]
    return out


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("segnext", channels=6).double().eval()
    x = torch.randn(2, 6, 9, 14, dtype=torch.float64)
    f = _depthwise(x, m.conv0)
    branches = [
        _depthwise(_depthwise(f, m.conv0_1), m.conv0_2),
        _depthwise(_depthwise(f, m.conv1_1), m.conv1_2),
        _depthwise(_depthwise(f, m.conv2_1), m.conv2_2),
    ]
    s = f + sum(branches)
    attn = torch.einsum("oc,nchw->nohw", m.conv3.weight[:, :, 0, 0], s) + m.conv3.bias[None, :, None, None]
    torch.testing.assert_close(m(x), attn * x)


def test_largest_branch_reaches_a_25x25_square():
    # with only the 21-tap branch active, an output pixel depends on a 25 x 25 square (21 + 5 - 1) of the
    # input: the strips compose to a full square, the 5x5 conv widens it
    m = cvattn.create("segnext", channels=1).double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.zero_()
        for conv in (m.conv0, m.conv2_1, m.conv2_2, m.conv3):
            conv.weight.fill_(1.0)
    x = torch.zeros(1, 1, 41, 41, dtype=torch.float64, requires_grad=True)
    m(x + 1.0)[0, 0, 20, 20].backward()
    reached = x.grad[0, 0] != 0
    assert reached.sum() == 25 * 25 and reached[8:33, 8:33].all()
