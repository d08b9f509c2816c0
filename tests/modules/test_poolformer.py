import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    # the pooling mixer is parameter-free whatever the width and window
    for c, k in [(64, 3), (7, 5)]:
        m = cvattn.create("poolformer", channels=c, pool_size=k)
        assert sum(p.numel() for p in m.parameters()) == 0


@pytest.mark.parametrize("k", [3, 5])
def test_matches_reference(k):
    torch.manual_seed(k)
    m = cvattn.create("poolformer", channels=3, pool_size=k).double().eval()
    x = torch.randn(2, 3, 6, 9, dtype=torch.float64)
    r = k // 2
    expected = torch.empty_like(x)
    for i in range(6):
        for j in range(9):
            window = x[:, :, max(0, i - r) : i + r + 1, max(0, j - r) : j + r + 1]  # cropped at the border
            expected[:, :, i, j] = window.mean((2, 3)) - x[:, :, i, j]
    torch.testing.assert_close(m(x), expected)


def test_constant_map_gives_zero_everywhere():
    # padding is not counted, so a constant map averages to itself at the border too
    m = cvattn.create("poolformer", channels=2, pool_size=3)
    torch.testing.assert_close(m(torch.full((1, 2, 5, 4), 3.0)), torch.zeros(1, 2, 5, 4))


def test_bad_pool_size_raises():
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("poolformer", channels=8, pool_size=2)
