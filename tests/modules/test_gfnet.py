import math

import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    # one complex number (two reals) per filter frequency and channel: 2 * h * w * C
    for c, h, w in [(64, 14, 8), (24, 7, 5)]:
        m = cvattn.create("gfnet", channels=c, h=h, w=w)
        assert sum(p.numel() for p in m.parameters()) == 2 * h * w * c


def _dft(n, dtype=torch.complex128):
    k = torch.arange(n, dtype=torch.float64)
    return torch.exp(-2j * math.pi * torch.outer(k, k) / n).to(dtype) / math.sqrt(n)


def _reference(weight, x):
    """Explicit orthonormal DFT matrices: full spectrum, filter extended by Hermitian symmetry, inverse DFT."""
    n, c, hh, ww = x.shape
    k = torch.complex(weight[..., 0], weight[..., 1]).permute(2, 0, 1)  # (C, H, W//2+1)
    full = torch.zeros(c, hh, ww, dtype=torch.complex128)
    half = ww // 2 + 1
    full[:, :, :half] = k
    for v in range(half, ww):  # K[u, v] = conj(K[-u, -v]) for the frequencies rfft2 drops
        for u in range(hh):
            full[:, u, v] = k[:, (-u) % hh, (-v) % ww].conj()
    fh, fw = _dft(hh), _dft(ww)
    spec = torch.einsum("uh,nchw,vw->ncuv", fh, x.to(torch.complex128), fw)
    y = torch.einsum("uh,ncuv,vw->nchw", fh.conj(), full * spec, fw.conj())
    return y.real, y.imag


def test_matches_explicit_dft_at_trained_size():
    torch.manual_seed(0)
    for hh, ww in [(6, 9), (7, 4)]:
        m = cvattn.create("gfnet", channels=5, h=hh, w=ww // 2 + 1).double().eval()
        x = torch.randn(2, 5, hh, ww, dtype=torch.float64)
        ref, _ = _reference(m.complex_weight.detach(), x)
        torch.testing.assert_close(m(x), ref)


def test_constant_real_filter_scales_the_input():
    # a constant filter value K multiplies every frequency: the output is K * x
    m = cvattn.create("gfnet", channels=3, h=5, w=4).double()
    with torch.no_grad():
        m.complex_weight.zero_()
        m.complex_weight[..., 0] = 0.5
    x = torch.randn(1, 3, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), 0.5 * x)


def test_other_sizes_use_the_bicubically_resized_filter():
    torch.manual_seed(1)
    m = cvattn.create("gfnet", channels=4, h=6, w=4).double().eval()
    x = torch.randn(1, 4, 9, 11, dtype=torch.float64)
    w = m.complex_weight.detach()
    k = w.permute(2, 3, 0, 1).reshape(1, 8, 6, 4)
    k = F.interpolate(k, size=(9, 6), mode="bicubic", align_corners=True)
    k = k.reshape(4, 2, 9, 6).permute(2, 3, 0, 1)
    ref, _ = _reference(k, x)
    torch.testing.assert_close(m(x), ref)
