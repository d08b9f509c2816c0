import torch
import torch.nn.functional as F

import cvattn


def test_parameter_counts_closed_form():
    for c in (64, 128):
        assert sum(p.numel() for p in cvattn.create("gather-excite", channels=c).parameters()) == 0
        dw = 9 * c + 2 * c  # depthwise 3x3 without bias + BN
        assert (
            sum(p.numel() for p in cvattn.create("gather-excite-param", channels=c).parameters()) == 3 * dw
        )  # log2(8) steps
        h = c // 16
        plus = 3 * dw + (c * h + h) + (h * c + c)
        assert sum(p.numel() for p in cvattn.create("gather-excite-plus", channels=c).parameters()) == plus


def test_parameter_free_global_is_sigmoid_of_the_mean():
    x = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    expected = x * torch.sigmoid(x.sum((2, 3), keepdim=True) / 35)
    torch.testing.assert_close(cvattn.create("gather-excite", channels=8)(x), expected)


def test_parameter_free_extent_pools_windows_and_repeats_them():
    m = cvattn.create("gather-excite", channels=2, extent=2)
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64)
    out = m(x)
    # top-left output cell: window 3x3 centred on (0, 0), stride 2, padding excluded from the average
    g00 = x[0, :, 0:2, 0:2].mean((1, 2))
    torch.testing.assert_close(out[0, :, 0, 0], x[0, :, 0, 0] * torch.sigmoid(g00))
    torch.testing.assert_close(out[0, :, 1, 1], x[0, :, 1, 1] * torch.sigmoid(g00))  # nearest upsampling


def test_param_variant_reduces_by_the_extent():
    m = cvattn.create("gather-excite-param", channels=4, extent=4).eval()
    x = torch.randn(1, 4, 16, 16)
    g = m.gather(x)
    assert g.shape[-2:] == (4, 4)
    torch.testing.assert_close(m(x), x * torch.sigmoid(F.interpolate(g, size=(16, 16), mode="nearest")))
