import pytest
import torch
import torch.nn.functional as F

import cvattn


def _params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize(
    ("cin", "cout", "k", "g", "kernels", "red"),
    [(32, 32, 3, 1, 4, 16), (64, 64, 3, 64, 4, 16), (16, 8, 1, 1, 1, 16), (512, 64, 3, 2, 2, 16)],
)
def test_parameter_count_closed_form(cin, cout, k, g, kernels, red):
    conv = cvattn.create(
        "odconv",
        in_channels=cin,
        out_channels=cout,
        kernel_size=k,
        groups=g,
        num_kernels=kernels,
        reduction=red,
    )
    h = max(cin // red, 16)
    squeeze = cin * h + 2 * h  # fc (no bias) and BN
    channel = h * cin + cin
    filt = 0 if cin == g == cout else h * cout + cout
    spatial = 0 if k == 1 else h * k * k + k * k
    kernel = 0 if kernels == 1 else h * kernels + kernels
    assert _params(conv) == squeeze + channel + filt + spatial + kernel + kernels * cout * cin // g * k * k


def _reference(conv, x):
    """ODConv from the paper's equation: every kernel scaled by all four attentions, summed, then convolved."""
    att = conv.attention
    z = att.fc.weight.flatten(1) @ x.mean((1, 2))
    z = (z - att.bn.running_mean) / torch.sqrt(att.bn.running_var + att.bn.eps) * att.bn.weight + att.bn.bias
    z = z.clamp_min(0)

    def head(layer):
        return layer.weight.flatten(1) @ z + layer.bias

    k = conv.kernel_size
    a_c = torch.sigmoid(head(att.channel))  # (C_in,)
    a_f = torch.sigmoid(head(att.filter)) if att.filter is not None else torch.ones(conv.out_channels)
    a_s = torch.sigmoid(head(att.spatial)).reshape(k, k) if att.spatial is not None else torch.ones(k, k)
    a_w = torch.softmax(head(att.kernel), 0) if att.kernel is not None else torch.ones(1)
    g = conv.groups
    per_group = conv.in_channels // g
    out_per_group = conv.out_channels // g
    kernel = torch.zeros_like(conv.weight[0])
    for i in range(conv.weight.shape[0]):
        for o in range(conv.out_channels):
            cin = a_c[(o // out_per_group) * per_group : (o // out_per_group + 1) * per_group]
            kernel[o] += a_w[i] * a_f[o] * cin[:, None, None] * a_s * conv.weight[i, o]
    return F.conv2d(x[None], kernel, None, conv.stride, conv.padding, conv.dilation, g)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"in_channels": 8, "out_channels": 12, "kernel_size": 3, "padding": 1},
        {
            "in_channels": 8,
            "out_channels": 4,
            "kernel_size": 3,
            "stride": 2,
            "padding": 2,
            "dilation": 2,
            "groups": 2,
        },
        {"in_channels": 6, "out_channels": 6, "kernel_size": 5, "padding": 2, "groups": 6, "num_kernels": 2},
        {"in_channels": 8, "out_channels": 4, "kernel_size": 1, "padding": 0, "num_kernels": 1},
        {"in_channels": 8, "out_channels": 4, "kernel_size": 3, "padding": 1, "num_kernels": 1},
    ],
)
def test_matches_the_four_attention_equation(kwargs):
    torch.manual_seed(0)
    conv = cvattn.create("odconv", **kwargs).double().eval()
    with torch.no_grad():
        conv.attention.bn.running_mean.normal_(0, 0.2)
        conv.attention.bn.running_var.uniform_(0.5, 1.5)
    x = torch.randn(3, kwargs["in_channels"], 9, 7, dtype=torch.float64)
    out = conv(x)
    for n in range(3):
        torch.testing.assert_close(out[n : n + 1], _reference(conv, x[n]))


def test_heads_left_out_where_their_dimension_is_one():
    dw = cvattn.create("odconv", in_channels=16, out_channels=16, kernel_size=3, padding=1, groups=16)
    pw = cvattn.create("odconv", in_channels=16, out_channels=8, kernel_size=1, padding=0, num_kernels=1)
    assert dw.attention.filter is None and dw.attention.spatial is not None
    assert pw.attention.spatial is None and pw.attention.kernel is None and pw.attention.filter is not None


def test_temperature_flattens_the_kernel_attention():
    conv = cvattn.create("odconv", in_channels=16, out_channels=16).eval()
    x = torch.randn(2, 16, 6, 6)
    conv.attention.temperature = 1e6
    _, _, _, a_w = conv.attention(x)
    torch.testing.assert_close(a_w, torch.full_like(a_w, 0.25), atol=1e-5, rtol=0)
