import pytest
import torch
import torch.nn.functional as F

import cvattn


def _reference(m, x):
    """TAM written out in eval mode: BN as its affine map, the adaptive convolution as an explicit sum."""
    n, c, t, h, w = x.shape
    k, p = m.kernel_size, m.padding

    def bn(v, layer, dim):
        shape = [1] * v.dim()
        shape[dim] = -1
        scale = layer.weight / torch.sqrt(layer.running_var + layer.eps)
        return (v - layer.running_mean.view(shape)) * scale.view(shape) + layer.bias.view(shape)

    z = x.mean((3, 4))
    g = F.linear(z.reshape(n * c, t), m.global_fc1.weight)
    g = F.linear(torch.relu(bn(g, m.global_bn, 1)), m.global_fc2.weight)
    kernel = torch.softmax(g, -1).reshape(n, c, k)
    loc = torch.relu(bn(F.conv1d(z, m.local_conv1.weight, padding=k // 2), m.local_bn, 1))
    importance = torch.sigmoid(F.conv1d(loc, m.local_conv2.weight))
    y = F.pad(x * importance[..., None, None], (0, 0, 0, 0, p, p))
    return sum(kernel[:, :, j, None, None, None] * y[:, :, j : j + t] for j in range(k))


def _randomise_bn(m):
    for bn in (m.global_bn, m.local_bn):
        bn.running_mean.normal_(0, 0.3)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.normal_(0, 0.2)


def test_parameter_count_closed_form():
    for c, frames, k, r in [(64, 8, 3, 4), (256, 16, 5, 4), (32, 4, 3, 2)]:
        m = cvattn.create("tam", channels=c, num_frames=frames, kernel_size=k, padding=k // 2, reduction=r)
        h = c // r
        glob = frames * 2 * frames + 2 * (2 * frames) + 2 * frames * k
        local = c * h * k + 2 * h + h * c
        assert sum(p.numel() for p in m.parameters()) == glob + local


@pytest.mark.parametrize(("frames", "k"), [(8, 3), (4, 5)])
def test_matches_written_out_reference(frames, k):
    torch.manual_seed(0)
    m = cvattn.create("tam", channels=16, num_frames=frames, kernel_size=k, padding=k // 2).double().eval()
    with torch.no_grad():
        _randomise_bn(m)
    x = torch.randn(2, 16, frames, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_kernel_is_a_softmax_per_sample_and_channel():
    """A constant clip in time stays constant inside (kernel weights sum to one), apart from the padded ends."""
    m = cvattn.create("tam", channels=8, num_frames=6).double().eval()
    frame = torch.randn(1, 8, 1, 2, 2, dtype=torch.float64)
    x = frame.expand(1, 8, 6, 2, 2).contiguous()
    y = m(x)
    importance = torch.sigmoid(
        m.local_conv2(torch.relu(m.local_bn(m.local_conv1(x.mean((3, 4))))))
    )  # constant input: interior frames share one importance value
    torch.testing.assert_close(y[:, :, 2], x[:, :, 2] * importance[:, :, 2, None, None])


def test_stride_shortens_the_clip():
    m = cvattn.create("tam", channels=8, num_frames=8, stride=2)
    assert m(torch.randn(2, 8, 8, 3, 3)).shape == (2, 8, 4, 3, 3)
