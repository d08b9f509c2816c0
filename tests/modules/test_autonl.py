import pytest
import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    # depthwise k x k convolution without bias + BatchNorm scale and shift
    for c, k in [(64, 3), (40, 5)]:
        m = cvattn.create("autonl", channels=c, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == c * k * k + 2 * c


def test_compact_channels_and_bad_arguments():
    assert cvattn.create("autonl", channels=64).reduced_channels == 16
    assert cvattn.create("autonl", channels=64, channel_ratio=0.125).reduced_channels == 8
    with pytest.raises(ValueError, match="channel_ratio"):
        cvattn.create("autonl", channels=64, channel_ratio=0.0)
    with pytest.raises(ValueError, match="stride"):
        cvattn.create("autonl", channels=64, stride=0)


@pytest.mark.parametrize("stride", [1, 2])
def test_matches_light_non_local_reference(stride):
    m = cvattn.create("autonl", channels=16, channel_ratio=0.25, stride=stride).double().eval()
    m.bn.running_mean.uniform_(-0.5, 0.5)
    m.bn.running_var.uniform_(0.5, 2.0)
    m.bn.weight.data.uniform_(0.5, 1.5)
    m.bn.bias.data.uniform_(-0.5, 0.5)
    x = torch.randn(2, 16, 13, 17, dtype=torch.float64)
    h, w = 13, 17
    # the pairwise form: affinity between every position (a, b) and every subsampled position (c, d),
    # on the first 4 channels only, then a weighted sum of all channels of the subsampled positions
    rows, cols = range(0, h, stride), range(0, w, stride)
    x_s = x[:, :, list(rows)][:, :, :, list(cols)]
    f = torch.einsum("niab,nicd->nabcd", x[:, :4], x_s[:, :4])
    y = torch.einsum("nabcd,njcd->njab", f, x_s) / (h * w)
    dw = F.conv2d(y, m.depthwise_conv.weight, padding=1, groups=16)
    scale = m.bn.weight / torch.sqrt(m.bn.running_var + m.bn.eps)
    ref = (dw - m.bn.running_mean[:, None, None]) * scale[:, None, None] + m.bn.bias[:, None, None] + x
    torch.testing.assert_close(m(x), ref)


def test_zero_init_starts_as_identity():
    m = cvattn.create("autonl", channels=32, zero_init=True).eval()
    x = torch.randn(2, 32, 9, 11)
    torch.testing.assert_close(m(x), x)
