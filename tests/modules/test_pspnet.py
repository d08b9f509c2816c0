import math

import torch

import cvattn


def _count(c, n_bins, r=None):
    r = r or c // n_bins
    return n_bins * (c * r + 2 * r)


def test_parameter_count_closed_form():
    for c, bins, r in [(64, (1, 2, 3, 6), None), (96, (1, 3, 5), 16)]:
        m = cvattn.create("pspnet", in_channels=c, bins=bins, reduction_channels=r)
        assert sum(p.numel() for p in m.parameters()) == _count(c, len(bins), r)
        assert m.out_channels == c + len(bins) * (r or c // len(bins))


def _adaptive_avg(x, b):
    h, w = x.shape[2:]
    out = torch.empty(*x.shape[:2], b, b, dtype=x.dtype)
    for i in range(b):
        for j in range(b):
            r0, r1 = (i * h) // b, math.ceil((i + 1) * h / b)
            c0, c1 = (j * w) // b, math.ceil((j + 1) * w / b)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean((2, 3))
    return out


def _interp_matrix(n_out, n_in):
    """Bilinear weights with aligned corners: output i samples input position i (n_in - 1) / (n_out - 1)."""
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(n_out):
        pos = i * (n_in - 1) / (n_out - 1) if n_in > 1 else 0.0
        lo = min(int(math.floor(pos)), n_in - 1)
        hi = min(lo + 1, n_in - 1)
        m[i, lo] += 1 - (pos - lo)
        m[i, hi] += pos - lo
    return m


def test_matches_independent_reference():
    m = cvattn.create("pspnet", in_channels=8).double()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.2, 0.2)
    m.eval()
    x = torch.randn(2, 8, 13, 17, dtype=torch.float64)
    parts = [x]
    for level, b in zip(m.levels, (1, 2, 3, 6), strict=True):
        conv, bn = level[1].conv, level[1].bn
        p = torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], _adaptive_avg(x, b))
        s = (1, -1, 1, 1)
        p = torch.relu(
            (p - bn.running_mean.view(s)) / (bn.running_var.view(s) + bn.eps).sqrt() * bn.weight.view(s)
            + bn.bias.view(s)
        )
        up = torch.einsum("hi,wj,ncij->nchw", _interp_matrix(13, b), _interp_matrix(17, b), p)
        parts.append(up)
    out = m(x)
    assert out.shape == (2, 16, 13, 17)
    torch.testing.assert_close(out, torch.cat(parts, 1))
