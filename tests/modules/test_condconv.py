import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for cin, cout, k, e, g in [(32, 32, 3, 8, 1), (16, 16, 5, 4, 16)]:
        m = cvattn.create(
            "condconv", in_channels=cin, out_channels=cout, kernel_size=k, num_experts=e, groups=g
        )
        assert (
            sum(p.numel() for p in m.parameters()) == (cin * e + e) + e * cout * (cin // g) * k * k + e * cout
        )


def test_per_sample_kernel_is_the_routed_mixture():
    m = cvattn.create(
        "condconv", in_channels=8, out_channels=12, kernel_size=3, padding=2, dilation=2, stride=2
    ).double()
    x = torch.randn(3, 8, 11, 9, dtype=torch.float64)
    out = m(x)
    for n in range(3):
        r = torch.sigmoid(m.routing(x[n].mean((1, 2))))
        kernel = sum(r[e] * m.weight[e] for e in range(m.weight.shape[0]))
        bias = sum(r[e] * m.bias[e] for e in range(m.weight.shape[0]))
        ref = F.conv2d(x[n : n + 1], kernel, bias, stride=2, padding=2, dilation=2)
        torch.testing.assert_close(out[n : n + 1], ref)


def test_drop_in_for_conv2d_shape():
    x = torch.randn(2, 16, 15, 13)
    conv = torch.nn.Conv2d(16, 24, 3, stride=2, padding=1, groups=4)
    m = cvattn.create(
        "condconv", in_channels=16, out_channels=24, kernel_size=3, stride=2, padding=1, groups=4
    )
    assert m(x).shape == conv(x).shape
