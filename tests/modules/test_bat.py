import math

import pytest
import torch

import cvattn


def _n(m):
    return sum(p.numel() for p in m.parameters())


def _randomise_bn(module):
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm2d):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.5, 0.5)


def _cna(x, cna):
    """1x1 conv (with bias), eval-mode BatchNorm and ReLU, written out."""
    conv, bn = cna.conv, cna.bn
    y = torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    y = (y - bn.running_mean[None, :, None, None]) * scale[None, :, None, None] + bn.bias[None, :, None, None]
    return y.clamp_min(0)


def _max_pool_rows(a, s):
    """Adaptive max pooling to s rows (bin i covers rows floor(i*H/s) .. ceil((i+1)*H/s) - 1), full width."""
    h = a.shape[2]
    return torch.stack([a[:, :, (i * h) // s : math.ceil((i + 1) * h / s)].amax((2, 3)) for i in range(s)], 2)


def _reference(m, x):
    bt, s, k = m.batransform, m.batransform.s, m.batransform.k
    xl = _cna(x, m.conv1)
    n, c, h, w = xl.shape
    a = _cna(xl, bt.conv1)
    rows = _max_pool_rows(a, s)  # (N, k, s)
    cols = _max_pool_rows(a.transpose(2, 3), s)
    p = torch.einsum("ocs,ncs->no", bt.conv_p.weight[:, :, :, 0], rows) + bt.conv_p.bias
    q = torch.einsum("ocs,ncs->no", bt.conv_q.weight[:, :, 0, :], cols) + bt.conv_q.bias
    p, q = torch.sigmoid(p.view(n, k, s, s)), torch.sigmoid(q.view(n, k, s, s))
    p, q = p / p.sum(3, keepdim=True), q / q.sum(2, keepdim=True)
    th, tw = math.ceil(h / s), math.ceil(w / s)
    y = torch.zeros(n, c, h, w, dtype=x.dtype)
    for i in range(n):
        for ch in range(c):
            g = ch // (c // k)
            big_p = torch.kron(p[i, g], torch.eye(th, dtype=x.dtype))  # (s*th, s*th)
            big_q = torch.kron(q[i, g], torch.eye(tw, dtype=x.dtype))
            padded = torch.zeros(s * th, s * tw, dtype=x.dtype)
            padded[:h, :w] = xl[i, ch]
            y[i, ch] = (big_p @ padded @ big_q)[:h, :w]
    return _cna(_cna(y, bt.conv2), m.conv2) + x


def _conv_bn(i, o):
    return i * o + o + 2 * o  # 1x1 conv with bias, BatchNorm


def test_parameter_count_closed_form():
    for c, r, s, k in [(64, 2, 7, 4), (48, 3, 4, 2)]:
        m = cvattn.create("bat", channels=c, r=r, s=s, k=k)
        ci = c // r
        transform = _conv_bn(ci, k) + 2 * (k * s * s * k * s + s * s * k) + _conv_bn(ci, ci)
        assert _n(m) == _conv_bn(c, ci) + transform + _conv_bn(ci, c)


@pytest.mark.parametrize(("size", "s"), [((7, 11), 3), ((8, 8), 4)])
def test_matches_kronecker_reference(size, s):
    torch.manual_seed(0)
    m = cvattn.create("bat", channels=16, r=2, s=s, k=2).double().eval()
    _randomise_bn(m)
    x = torch.randn(2, 16, *size, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_transform_rows_and_columns_are_normalised():
    # with X = ones, (P kron I) X (Q kron I) = ones, since rows of P and columns of Q sum to 1
    torch.manual_seed(1)
    m = cvattn.create("bat", channels=8, s=4, k=2).double().eval()
    bt = m.batransform
    xl = torch.ones(1, 4, 8, 8, dtype=torch.float64)
    captured = {}
    bt.conv2.register_forward_hook(lambda mod, inp, out: captured.setdefault("y", inp[0]))
    bt(xl)
    torch.testing.assert_close(captured["y"], xl)


@pytest.mark.parametrize("kwargs", [{"k": 3}, {"s": 0}, {"r": 0}, {"dropout": 1.0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        cvattn.create("bat", channels=16, **kwargs)
