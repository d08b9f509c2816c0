import math

import pytest
import torch
import torch.nn.functional as F

import cvattn


def _reference(m, x):
    """TIN written out: offset and weight networks from the parameters, then a per-frame, per-group sampler
    that splits each offset into its whole part and fraction (the two-shift form of the official code)."""
    n, c, t, h, w = x.shape
    fold, cg = m.fold, m.fold // 4
    z = x[:, :fold].mean((3, 4))
    o = F.conv1d(z, m.offset_conv.weight, m.offset_conv.bias, padding=1).flatten(1)
    o = F.linear(
        torch.relu(F.linear(o, m.offset_fc1.weight, m.offset_fc1.bias)),
        m.offset_fc2.weight,
        m.offset_fc2.bias,
    )
    d = 4 * (torch.sigmoid(o) - 0.5)
    offsets = torch.cat((d, -d), 1)
    wts = 2 * torch.sigmoid(F.conv1d(z, m.weight_conv.weight, m.weight_conv.bias, padding=1))  # (N, 2, T)
    out = x.clone()
    for b in range(n):
        for g in range(4):
            off = float(offsets[b, g].detach())
            k = math.floor(off)
            frac = off - k
            chans = slice(g * cg, (g + 1) * cg)
            for i in range(t):
                v = torch.zeros_like(x[b, chans, 0])
                if 0 <= i - k < t:
                    v = v + (1 - frac) * x[b, chans, i - k]
                if 0 <= i - k - 1 < t:
                    v = v + frac * x[b, chans, i - k - 1]
                out[b, chans, i] = wts[b, g % 2, i] * v
    return out


def test_parameter_count_closed_form():
    for c, div, frames in [(64, 4, 8), (256, 8, 16), (32, 2, 4)]:
        f = c // div
        m = cvattn.create("tin", channels=c, shift_div=div, num_frames=frames)
        # offset conv (f*3 + 1), FC T->T, FC T->2, weight conv (f*2*3 + 2)
        assert sum(p.numel() for p in m.parameters()) == 9 * f + frames * frames + 3 * frames + 5


def test_initial_offsets_and_weights():
    m = cvattn.create("tin", channels=32)
    assert torch.sigmoid(m.offset_fc2.bias).tolist() == pytest.approx([0.625, 0.625])
    assert m.weight_conv.bias.abs().sum() == 0


@pytest.mark.parametrize("bias", [(0.3, -0.2), (2.5, -1.5), (-3.0, 1.0)])
def test_matches_two_shift_reference(bias):
    torch.manual_seed(0)
    m = cvattn.create("tin", channels=32, num_frames=6).double()
    with torch.no_grad():
        m.offset_fc2.bias.copy_(torch.tensor(bias))  # offsets from about +-0.3 up to +-1.9 frames
    x = torch.randn(2, 32, 6, 3, 4, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_offset_gets_gradient_through_the_interpolation():
    m = cvattn.create("tin", channels=16, num_frames=4)
    m(torch.randn(2, 16, 4, 3, 3)).square().sum().backward()
    assert m.offset_fc2.bias.grad.abs().sum() > 0


def test_other_clip_lengths_use_adaptive_pooling():
    torch.manual_seed(1)
    m = cvattn.create("tin", channels=16, num_frames=8).double().eval()
    x = torch.randn(1, 16, 8, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))  # T == num_frames: the pooling is the identity
    assert m(torch.randn(1, 16, 5, 3, 3, dtype=torch.float64)).shape == (1, 16, 5, 3, 3)


def test_bad_channel_split():
    with pytest.raises(ValueError, match="multiple of 4"):
        cvattn.create("tin", channels=24, shift_div=4)
