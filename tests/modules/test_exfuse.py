import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, ch, k in [(64, 128, 3), (32, 256, 1)]:
        m = cvattn.create("exfuse", channels=c, high_channels=ch, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == ch * c * k * k + c


def _interp_matrix(n_out, n_in):
    """Bilinear weights, half-pixel centres (align_corners=False), clamped at the borders."""
    m = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(n_out):
        pos = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
        lo = min(int(math.floor(pos)), n_in - 1)
        hi = min(lo + 1, n_in - 1)
        m[i, lo] += 1 - (pos - lo)
        m[i, hi] += pos - lo
    return m


@pytest.mark.parametrize(("low", "high"), [((16, 16), (8, 8)), ((13, 17), (7, 9))])
def test_low_level_times_upsampled_semantics(low, high):
    m = cvattn.create("exfuse", channels=6, high_channels=10).double()
    x = torch.randn(2, 6, *low, dtype=torch.float64)
    y = torch.randn(2, 10, *high, dtype=torch.float64)
    s = F.conv2d(F.pad(y, (1, 1, 1, 1)), m.conv.weight, m.conv.bias)  # (2, 6, h, w)
    up = torch.einsum("Hh,Ww,nchw->ncHW", _interp_matrix(low[0], high[0]), _interp_matrix(low[1], high[1]), s)
    torch.testing.assert_close(m(x, y), x * up)


def test_wrong_high_level_channels_raise():
    m = cvattn.create("exfuse", channels=6, high_channels=10)
    with pytest.raises(ValueError, match="high-level"):
        m(torch.randn(1, 6, 8, 8), torch.randn(1, 11, 4, 4))
