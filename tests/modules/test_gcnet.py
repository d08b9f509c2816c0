import torch

import cvattn


def closed_form(c, ratio=1 / 16):
    p = int(c * ratio)
    return (c + 1) + (c * p + p) + 2 * p + (p * c + c)


def test_parameter_count_closed_form():
    for c, r in [(64, 1 / 16), (256, 1 / 4)]:
        m = cvattn.create("gcnet", channels=c, ratio=r)
        assert sum(p.numel() for p in m.parameters()) == closed_form(c, r)


def test_matches_explicit_context_and_transform():
    m = cvattn.create("gcnet", channels=32).double().eval()
    x = torch.randn(2, 32, 5, 7, dtype=torch.float64)
    w, b = m.conv_mask.weight.flatten(), m.conv_mask.bias
    logits = torch.einsum("c,nchw->nhw", w, x).flatten(1) + b
    a = logits.exp() / logits.exp().sum(1, keepdim=True)
    torch.testing.assert_close(a.sum(1), torch.ones(2, dtype=torch.float64))
    c = torch.einsum("nj,ncj->nc", a, x.flatten(2))
    conv1, ln, _, conv2 = m.transform
    h = c @ conv1.weight[:, :, 0, 0].T + conv1.bias
    h = (h - h.mean(1, keepdim=True)) / torch.sqrt(h.var(1, unbiased=False, keepdim=True) + ln.eps)
    h = torch.relu(h * ln.weight.flatten() + ln.bias.flatten())
    t = h @ conv2.weight[:, :, 0, 0].T + conv2.bias
    torch.testing.assert_close(m(x), x + t[:, :, None, None])


def test_zero_init_is_identity():
    m = cvattn.create("gcnet", channels=32, zero_init=True)
    x = torch.randn(1, 32, 4, 4)
    torch.testing.assert_close(m(x), x)
