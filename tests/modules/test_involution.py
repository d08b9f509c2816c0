import pytest
import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, k, r, gc in [(64, 7, 4, 16), (32, 3, 2, 8)]:
        m = cvattn.create("involution", channels=c, kernel_size=k, reduction=r, group_channels=gc)
        hidden, groups = c // r, c // gc
        # reducing 1x1 conv (no bias) + BN affine, then the 1x1 conv with bias to G*K*K kernel values
        expected = c * hidden + 2 * hidden + hidden * groups * k * k + groups * k * k
        assert sum(p.numel() for p in m.parameters()) == expected


def _reference(m, x):
    """Y[c, i, j] = sum_{u, v} H[g(c), u, v, i, j] * X[c, s*i + u - p, s*j + v - p], pixel by pixel."""
    k, s, gc = m.kernel_size, m.stride, m.channels // m.groups
    pooled = F.avg_pool2d(x, s, s, ceil_mode=True) if s > 1 else x
    kernel = m.span(m.reduce(pooled))
    n, c, h, w = x.shape
    ho, wo = kernel.shape[-2:]
    kernel = kernel.view(n, m.groups, k, k, ho, wo)
    pad = (k - 1) // 2
    xp = F.pad(x, (pad, pad, pad, pad))
    out = torch.zeros(n, c, ho, wo, dtype=x.dtype)
    for ch in range(c):
        g = ch // gc
        for u in range(k):
            for v in range(k):
                window = xp[:, ch, u : u + s * (ho - 1) + 1 : s, v : v + s * (wo - 1) + 1 : s]
                out[:, ch] += kernel[:, g, u, v] * window
    return out


@pytest.mark.parametrize("stride,size", [(1, (7, 9)), (2, (8, 6)), (2, (7, 9))])
def test_matches_pixelwise_reference(stride, size):
    torch.manual_seed(0)
    m = cvattn.create("involution", channels=32, kernel_size=5, stride=stride).double().eval()
    for bn_stat in (m.reduce.bn.running_mean, m.reduce.bn.running_var):
        bn_stat.uniform_(0.5, 1.5)
    x = torch.randn(2, 32, *size, dtype=torch.float64)
    out = m(x)
    assert out.shape == (2, 32, -(-size[0] // stride), -(-size[1] // stride))
    torch.testing.assert_close(out, _reference(m, x))


def test_kernel_is_shared_within_a_group_and_depends_on_the_pixel():
    torch.manual_seed(0)
    m = cvattn.create("involution", channels=32, kernel_size=3).double().eval()
    # a constant input gives the same kernel everywhere: away from the border the result is constant too
    x = torch.ones(1, 32, 6, 6, dtype=torch.float64)
    out = m(x)
    torch.testing.assert_close(out[..., 1:-1, 1:-1], out[..., 1:2, 1:2].expand(-1, -1, 4, 4))
    # the channels of one group see the same kernel: equal inputs give equal outputs
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64).expand(1, 32, 6, 6).contiguous()
    out = m(x)
    torch.testing.assert_close(out[:, :16], out[:, :1].expand(-1, 16, -1, -1))
    assert not torch.allclose(out[:, 0], out[:, 16])


def test_channels_not_divisible_by_group_channels_raise():
    with pytest.raises(ValueError, match="group_channels"):
        cvattn.create("involution", channels=24)
