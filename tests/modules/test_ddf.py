import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


@pytest.mark.parametrize(("c", "k", "g", "r"), [(32, 3, 1, 0.2), (64, 5, 4, 0.25), (12, 3, 3, 0.5)])
def test_parameter_count_closed_form(c, k, g, r):
    m = cvattn.create("ddf", channels=c, kernel_size=k, head=g, se_ratio=r)
    h = int(c * r)
    spatial = c * g * k * k + g * k * k
    channel = (c * h + h) + (h * c * k * k + c * k * k) + c * k * k
    assert sum(p.numel() for p in m.parameters()) == spatial + channel


def _standardise(f):
    f = f - f.mean(-1, keepdim=True)
    return f / (f.std(-1, keepdim=True) + 1e-10)


def _reference(m, x, k, s, d, g, combine, gain):
    """The DDF sum written tap by tap on a zero-padded input, from the paper's definition."""
    n, c, h, w = x.shape
    ho, wo = (h - 1) // s + 1, (w - 1) // s + 1
    guide = x
    if getattr(m, "spatial_dw", None) is not None:
        guide = F.conv2d(x, m.spatial_dw.weight, m.spatial_dw.bias, padding=m.spatial_dw.padding, groups=c)
    f_s = F.conv2d(guide, m.spatial.weight, m.spatial.bias, stride=s)  # (N, G*k*k, H', W')
    f_s = _standardise(f_s.reshape(n, g, k * k, ho, wo).movedim(2, -1)) * gain  # (N, G, H', W', k*k)
    z = torch.relu(m.channel_fc1.weight.flatten(1) @ x.mean((2, 3)).T + m.channel_fc1.bias[:, None])
    f_c = (m.channel_fc2.weight.flatten(1) @ z + m.channel_fc2.bias[:, None]).T.reshape(n, c, k * k)
    f_c = _standardise(f_c) * m.channel_scale.reshape(c, k * k)
    p = (k - 1) // 2 * d
    xp = F.pad(x, (p, p, p, p))
    out = torch.zeros(n, c, ho, wo, dtype=x.dtype)
    for j in range(k * k):
        dy, dx = (j // k) * d, (j % k) * d
        tap = xp[:, :, dy : dy + (ho - 1) * s + 1 : s, dx : dx + (wo - 1) * s + 1 : s]
        spatial = f_s[..., j].repeat_interleave(c // g, 1)  # (N, C, H', W')
        channel = f_c[:, :, j, None, None]
        filt = channel * spatial if combine == "mul" else channel + spatial
        out += tap * filt
    return out


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"kernel_combine": "add"},
        {"stride": 2, "head": 2},
        {"kernel_size": 5, "dilation": 2, "head": 4, "stride": 2, "kernel_combine": "add"},
    ],
)
def test_matches_the_tap_by_tap_definition(kwargs):
    torch.manual_seed(0)
    m = cvattn.create("ddf", channels=8, se_ratio=0.5, **kwargs).double()
    x = torch.randn(2, 8, 9, 7, dtype=torch.float64)
    ref = _reference(
        m, x, m.kernel_size, m.stride, m.dilation, m.head, m.kernel_combine, math.sqrt(2) / m.kernel_size
    )
    torch.testing.assert_close(m(x), ref)


@pytest.mark.parametrize(("s", "combine"), [(2, "mul"), (3, "add")])
def test_up_is_one_ddf_per_sub_pixel_then_a_pixel_shuffle(s, combine):
    torch.manual_seed(0)
    m = cvattn.create(
        "ddf-up", channels=8, scale_factor=s, head=2, se_ratio=0.5, kernel_combine=combine
    ).double()
    x = torch.randn(2, 8, 5, 4, dtype=torch.float64)
    out = m(x)
    assert out.shape == (2, 8, 5 * s, 4 * s)
    for i in range(s):
        for j in range(s):
            branch = _reference(m.branches[i * s + j], x, 3, 1, 1, 2, combine, 1 / 3)
            torch.testing.assert_close(out[:, :, i::s, j::s], branch)


def test_up_parameter_count_closed_form():
    c, k, s, r, dw = 16, 3, 2, 0.25, 5
    m = cvattn.create("ddf-up", channels=c, kernel_size=k, scale_factor=s, se_ratio=r, dw_kernel_size=dw)
    h = int(c * r)
    branch = (c * dw * dw + c) + (c * k * k + k * k) + (c * h + h) + (h * c * k * k + c * k * k) + c * k * k
    assert sum(p.numel() for p in m.parameters()) == s * s * branch


def test_filters_are_normalised_over_their_taps():
    m = cvattn.create("ddf", channels=16, kernel_size=3).double()
    x = torch.randn(2, 16, 6, 6, dtype=torch.float64)
    f_s = m.spatial(x).reshape(2, 1, 9, 6, 6)
    from cvattn.blocks.ddf import filter_norm

    f = filter_norm(f_s, 2)
    torch.testing.assert_close(f.mean(2), torch.zeros_like(f.mean(2)))
    torch.testing.assert_close(f.std(2), torch.ones_like(f.std(2)))


def test_constant_channel_filter_is_a_spatially_varying_depthwise_filter():
    """With F_c = 1 ("mul"), DDF reduces to per-position filters shared by the channels (involution-like)."""
    x = torch.randn(1, 4, 5, 5, dtype=torch.float64)
    f_s = torch.randn(1, 1, 9, 5, 5, dtype=torch.float64)
    from cvattn.blocks.ddf import ddf_op

    y = ddf_op(x, torch.ones(1, 4, 9, dtype=torch.float64), f_s, 3, 1, 1, "mul")
    cols = F.unfold(x, 3, padding=1).reshape(1, 4, 9, 25)
    torch.testing.assert_close(y.reshape(1, 4, 25), (cols * f_s.reshape(1, 1, 9, 25)).sum(2))


def test_bad_arguments_are_refused():
    for kwargs in ({"kernel_size": 4}, {"head": 3}, {"kernel_combine": "max"}):
        with pytest.raises(ValueError, match="expected"):
            cvattn.create("ddf", channels=16, **kwargs)
