import torch

import cvattn


def _count(c, k, d):
    cna = lambda i, o: i * o + 2 * o  # noqa: E731 - conv without bias + BN affine
    return 2 * (cna(c, d) + cna(d, d)) + cna(c, d) + cna(d, c) + cna(2 * c, c)


def test_parameter_count_closed_form():
    assert sum(p.numel() for p in cvattn.create("ocr").parameters()) == _count(64, 19, 32)
    m = cvattn.create("ocr", channels=512, num_classes=19, key_channels=256)
    assert sum(p.numel() for p in m.parameters()) == _count(512, 19, 256)


def _cna(seq, t):
    conv, bn = seq.conv, seq.bn
    t = torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], t)
    t = (t - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    return torch.relu(t * bn.weight[:, None, None] + bn.bias[:, None, None])


def test_matches_independent_reference():
    torch.manual_seed(0)
    m = cvattn.create("ocr", channels=16, num_classes=5, key_channels=8).double().eval()
    for bn in [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]:
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 16, 6, 7, dtype=torch.float64)
    regions = torch.randn(2, 5, 6, 7, dtype=torch.float64)
    # soft object regions: softmax over pixels, then weighted sums of pixel features
    p = torch.exp(regions) / torch.exp(regions).sum((2, 3), keepdim=True)
    f = torch.einsum("nkhw,nchw->nck", p, x)[..., None]  # (N, C, K, 1)
    q = _cna(m.f_pixel[1], _cna(m.f_pixel[0], x))
    key = _cna(m.f_object[1], _cna(m.f_object[0], f))[..., 0]
    val = _cna(m.f_down, f)[..., 0]
    logits = torch.einsum("ndhw,ndk->nhwk", q, key) / 8**0.5
    w = torch.softmax(logits, -1)
    torch.testing.assert_close(w.sum(-1), torch.ones_like(w.sum(-1)))
    y = _cna(m.f_up, torch.einsum("nhwk,ndk->ndhw", w, val))
    expected = _cna(m.fuse, torch.cat([y, x], 1))
    torch.testing.assert_close(m(x, regions), expected)
