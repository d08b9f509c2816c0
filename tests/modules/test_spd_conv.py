import pytest
import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for cin, cout, k, s in [(32, 64, 3, 2), (8, 12, 1, 3)]:
        m = cvattn.create("spd-conv", in_channels=cin, out_channels=cout, kernel_size=k, scale=s)
        assert sum(p.numel() for p in m.parameters()) == k * k * s * s * cin * cout + 2 * cout


def _spd_reference(x, s):
    # the paper's sub-maps f_{i,j} = X[i::s, j::s], concatenated with the row offset i varying fastest
    return torch.cat([x[..., i::s, j::s] for j in range(s) for i in range(s)], dim=1)


@pytest.mark.parametrize("scale", [2, 3])
def test_matches_sub_map_concatenation_then_conv(scale):
    m = cvattn.create("spd-conv", in_channels=5, out_channels=7, scale=scale).double().eval()
    with torch.no_grad():
        for p in m.conv.bn.parameters():
            p.uniform_(0.5, 1.5)
        m.conv.bn.running_mean.uniform_(-0.5, 0.5)
        m.conv.bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 5, 6 * scale, 4 * scale, dtype=torch.float64)
    bn = m.conv.bn
    z = F.conv2d(_spd_reference(x, scale), m.conv.conv.weight, padding=1)
    z = (z - bn.running_mean[:, None, None]) / (bn.running_var[:, None, None] + bn.eps).sqrt()
    ref = F.silu(z * bn.weight[:, None, None] + bn.bias[:, None, None])
    torch.testing.assert_close(m(x), ref)


def test_space_to_depth_keeps_every_pixel_and_scale_2_order():
    m = cvattn.create("spd-conv", in_channels=1, out_channels=4)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    y = m.space_to_depth(x)
    assert y.shape == (1, 4, 2, 2)
    assert sorted(y.flatten().tolist()) == x.flatten().tolist()
    # official order: x[::2, ::2], x[1::2, ::2], x[::2, 1::2], x[1::2, 1::2]
    assert y[0, :, 0, 0].tolist() == [0.0, 4.0, 1.0, 5.0]


def test_size_not_divisible_by_scale_raises():
    m = cvattn.create("spd-conv", in_channels=4, out_channels=8)
    with pytest.raises(ValueError, match="expected H and W divisible"):
        m(torch.randn(1, 4, 7, 8))
