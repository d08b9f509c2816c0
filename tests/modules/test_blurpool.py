import pytest
import torch
import torch.nn.functional as F

import cvattn

# the paper's binomial filters, written out
TAPS = {1: [1.0], 2: [1.0, 1.0], 3: [1.0, 2.0, 1.0], 4: [1.0, 3.0, 3.0, 1.0], 5: [1.0, 4.0, 6.0, 4.0, 1.0]}


def test_no_parameters_and_state_dict():
    for id in ("blurpool", "blurpool-max"):
        m = cvattn.create(id, channels=16)
        assert sum(p.numel() for p in m.parameters()) == 0
        assert m.state_dict() == {}  # the filter is a constant, not a state


def _reference(x, k, stride, mode, pad_off=0):
    a = torch.tensor(TAPS[k], dtype=x.dtype)
    before, after = (k - 1) // 2 + pad_off, k // 2 + pad_off
    xp = F.pad(x, (before, after, before, after), mode=mode) if before or after else x
    rows = xp.unfold(2, k, stride).unfold(3, k, stride)  # (N, C, H', W', k, k)
    w = a[:, None] * a[None, :]
    return (rows * w).sum((-1, -2)) / w.sum()


@pytest.mark.parametrize(
    ("k", "stride", "pad_type", "mode", "pad_off"),
    [
        (4, 2, "reflect", "reflect", 0),
        (3, 2, "zero", "constant", 0),
        (5, 3, "replicate", "replicate", 1),
        (2, 2, "reflect", "reflect", 0),
        (1, 2, "zero", "constant", 1),
    ],
)
def test_matches_binomial_blur_then_subsample(k, stride, pad_type, mode, pad_off):
    m = cvattn.create(
        "blurpool", channels=3, filter_size=k, stride=stride, pad_type=pad_type, pad_off=pad_off
    )
    m = m.double()
    x = torch.randn(2, 3, 13, 16, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(x, k, stride, mode, pad_off))


def test_max_blur_pool_is_dense_max_then_blur():
    m = cvattn.create("blurpool-max", channels=4).double()
    x = torch.randn(1, 4, 12, 9, dtype=torch.float64)
    dense = torch.maximum(
        torch.maximum(x[..., :-1, :-1], x[..., 1:, :-1]), torch.maximum(x[..., :-1, 1:], x[..., 1:, 1:])
    )
    torch.testing.assert_close(m(x), _reference(dense, 4, 2, "reflect"))


def test_blur_is_closer_to_shift_equivariant_than_strided_sampling():
    # a high-frequency input: subsampling alone changes completely under a one-pixel shift, the blurred one less
    torch.manual_seed(0)
    x = torch.randn(1, 1, 32, 32, dtype=torch.float64)
    m = cvattn.create("blurpool", channels=1, pad_type="zero").double()
    shifted = torch.roll(x, shifts=2, dims=-1)
    plain = (x[..., ::2, ::2], shifted[..., ::2, ::2])
    blurred = (m(x), m(shifted))
    # a shift by 2 pixels is a shift by 1 after subsampling: compare away from the borders
    err_plain = (torch.roll(plain[0], 1, -1) - plain[1])[..., 2:-2, 2:-2].abs().mean()
    err_blur = (torch.roll(blurred[0], 1, -1) - blurred[1])[..., 2:-2, 2:-2].abs().mean()
    assert err_blur < 1e-12 and err_plain < 1e-12  # an even shift: both exact
    shifted1 = torch.roll(x, shifts=1, dims=-1)
    diff_plain = (x[..., ::2, ::2] - shifted1[..., ::2, ::2]).abs().mean()
    diff_blur = (m(x) - m(shifted1)).abs().mean()
    assert diff_blur < 0.5 * diff_plain  # an odd shift: the blurred output moves much less
