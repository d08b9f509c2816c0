import pytest
import torch

import cvattn


def _reference_shift(x, fold):
    """The shift written frame by frame: channel block 0 reads frame t+1, block 1 reads frame t-1."""
    n, c, t, h, w = x.shape
    out = torch.zeros_like(x)
    for i in range(t):
        if i + 1 < t:
            out[:, :fold, i] = x[:, :fold, i + 1]
        if i >= 1:
            out[:, fold : 2 * fold, i] = x[:, fold : 2 * fold, i - 1]
        out[:, 2 * fold :, i] = x[:, 2 * fold :, i]
    return out


def test_no_parameters():
    assert sum(p.numel() for p in cvattn.create("tsm", channels=64).parameters()) == 0
    net = torch.nn.Conv2d(64, 64, 3, padding=1)
    m = cvattn.create("tsm", channels=64, net=net, place="residual")
    assert sum(p.numel() for p in m.parameters()) == 64 * 64 * 9 + 64  # only the wrapped layer's


@pytest.mark.parametrize(("c", "div", "t"), [(16, 8, 4), (14, 4, 8), (24, 8, 2), (10, 8, 3)])
def test_shift_matches_frame_by_frame_reference(c, div, t):
    x = torch.randn(2, c, t, 3, 5)
    y = cvattn.create("tsm", channels=c, fold_div=div)(x)
    assert torch.equal(y, _reference_shift(x, c // div))


def test_shift_is_a_permutation_with_zero_ends():
    x = torch.arange(1.0, 1 + 16 * 4).reshape(1, 16, 4, 1, 1)
    y = cvattn.create("tsm", channels=16)(x)
    assert (y[:, :2, -1] == 0).all() and (y[:, 2:4, 0] == 0).all()
    kept = y[y != 0].sort().values
    assert set(kept.tolist()) < set(x.flatten().tolist()) and len(kept) == 16 * 4 - 4


def test_residual_placement_and_net():
    net = torch.nn.Conv2d(16, 16, 1)
    x = torch.randn(2, 16, 5, 4, 4)
    shifted = _reference_shift(x, 2)
    frames = shifted.transpose(1, 2).reshape(10, 16, 4, 4)
    inner = net(frames).reshape(2, 5, 16, 4, 4).transpose(1, 2)
    torch.testing.assert_close(cvattn.create("tsm", channels=16, net=net)(x), inner)
    torch.testing.assert_close(cvattn.create("tsm", channels=16, net=net, place="residual")(x), x + inner)
    torch.testing.assert_close(cvattn.create("tsm", channels=16, place="residual")(x), x + shifted)


def test_bad_settings():
    with pytest.raises(ValueError, match="place"):
        cvattn.create("tsm", channels=16, place="block")
    with pytest.raises(ValueError, match="fold_div"):
        cvattn.create("tsm", channels=16, fold_div=1)
