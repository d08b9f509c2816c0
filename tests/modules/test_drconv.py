import pytest
import torch
import torch.nn.functional as F

import cvattn


@pytest.mark.parametrize(
    ("cin", "cout", "k", "m", "b", "bias"), [(32, 32, 1, 8, 8, True), (16, 24, 3, 4, 2, False)]
)
def test_parameter_count_closed_form(cin, cout, k, m, b, bias):
    conv = cvattn.create(
        "drconv", in_channels=cin, out_channels=cout, kernel_size=k, num_regions=m, num_bases=b, bias=bias
    )
    expected = cout * cin * k * k * b + (cout if bias else 0) + (cin * m * b + m * b) + cin * m
    assert sum(p.numel() for p in conv.parameters()) == expected


def _region_filters(conv, xn):
    """The m filters of one example: mixtures of the bases weighted by 2 sigmoid(FC(GAP)) / B."""
    r = 2 * torch.sigmoid(conv.routing.weight @ xn.mean((1, 2)) + conv.routing.bias) / conv.num_bases
    r = r.reshape(conv.num_regions, conv.num_bases)
    k = conv.kernel_size
    return (r @ conv.weight.T).reshape(conv.num_regions, conv.out_channels, conv.in_channels, k, k)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"in_channels": 6, "out_channels": 5, "kernel_size": 1},
        {"in_channels": 6, "out_channels": 5, "kernel_size": 3, "padding": 1, "num_regions": 3},
        {"in_channels": 4, "out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 2, "dilation": 2},
    ],
)
def test_each_position_uses_its_regions_filter(kwargs):
    torch.manual_seed(0)
    conv = cvattn.create("drconv", **kwargs).double()
    with torch.no_grad():
        conv.guide.weight.normal_()
        conv.routing.weight.normal_()
    x = torch.randn(2, kwargs["in_channels"], 9, 8, dtype=torch.float64)
    out = conv(x)
    s, p, d = kwargs.get("stride", 1), kwargs.get("padding", 0), kwargs.get("dilation", 1)
    for n in range(2):
        filters = _region_filters(conv, x[n])
        # every region's response over the whole map, then the region chosen by the mask at each position
        responses = torch.stack([F.conv2d(x[n : n + 1], f, conv.bias, s, p, d)[0] for f in filters])
        ho, wo = responses.shape[2:]
        logits = F.conv2d(x[n : n + 1], conv.guide.weight)
        region = F.interpolate(logits, (ho, wo)).argmax(1)[0]  # nearest resize, as the official layer
        expected = responses.gather(0, region.expand(conv.out_channels, ho, wo)[None])[0]
        torch.testing.assert_close(out[n], expected)


def test_gradients_follow_the_approximate_backward():
    """The mask gets the gradient of sum_j A_j y_j; a basis filter only the gradient of positions that chose it."""
    torch.manual_seed(1)
    conv = cvattn.create("drconv", in_channels=4, out_channels=3, num_regions=3, bias=False).double()
    x = torch.randn(1, 4, 5, 6, dtype=torch.float64)
    g = torch.randn(1, 3, 5, 6, dtype=torch.float64)
    (conv(x) * g).sum().backward()
    guide_grad, weight_grad = conv.guide.weight.grad.clone(), conv.weight.grad.clone()

    # the bases: the gradient of the hard selection, with the mask held fixed
    weight = conv.weight.detach().clone().requires_grad_(True)
    r = 2 * torch.sigmoid(conv.routing(x.mean((2, 3)))).detach().reshape(3, -1) / conv.num_bases
    per_region = (r @ weight.T).reshape(3, 3, 4, 1, 1)
    region = F.conv2d(x, conv.guide.weight).argmax(1)[0]
    hard = torch.stack([F.conv2d(x, f)[0] for f in per_region]).gather(0, region.expand(3, 5, 6)[None])[0]
    (hard * g[0]).sum().backward()
    torch.testing.assert_close(weight_grad, weight.grad)

    filters = _region_filters(conv, x[0]).detach()
    responses = torch.stack([F.conv2d(x, f)[0] for f in filters])  # (m, C_out, H, W)
    guide = conv.guide.weight.detach().clone().requires_grad_(True)
    a = torch.softmax(F.conv2d(x, guide), 1)[0]  # (m, H, W)
    soft = (a[:, None] * responses).sum(0)
    (soft * g[0]).sum().backward()
    torch.testing.assert_close(guide_grad, guide.grad)


def test_one_region_is_a_dynamic_convolution():
    conv = cvattn.create(
        "drconv", in_channels=8, out_channels=4, kernel_size=3, padding=1, num_regions=1
    ).double()
    x = torch.randn(2, 8, 6, 7, dtype=torch.float64)
    for n in range(2):
        w = _region_filters(conv, x[n])[0]
        torch.testing.assert_close(conv(x)[n : n + 1], F.conv2d(x[n : n + 1], w, conv.bias, padding=1))
