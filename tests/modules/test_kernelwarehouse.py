import pytest
import torch
import torch.nn.functional as F

import cvattn


def _params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize(
    ("cin", "cout", "k", "g", "ratio", "in_ratio", "out_ratio", "spatial", "bias"),
    [
        (32, 32, 3, 1, 1.0, 1.0, 1.0, True, False),
        (64, 32, 3, 1, 4.0, 1.0, 1.0, True, True),
        (32, 32, 3, 2, 0.5, 0.5, 0.5, True, False),
        (16, 24, 5, 1, 2.0, 1.0, 0.25, False, False),
    ],
)
def test_parameter_count_closed_form(cin, cout, k, g, ratio, in_ratio, out_ratio, spatial, bias):
    conv = cvattn.create(
        "kernelwarehouse",
        in_channels=cin,
        out_channels=cout,
        kernel_size=k,
        groups=g,
        bias=bias,
        cell_num_ratio=ratio,
        cell_inplane_ratio=in_ratio,
        cell_outplane_ratio=out_ratio,
        spatial_partition=spatial,
    )
    c_in, c_out, kc = int(cin // g * in_ratio), int(cout * out_ratio), 1 if spatial else k
    m = (k // kc) ** 2 * (cout // c_out) * (cin // g // c_in)
    n = int(m * ratio)
    h = max(cin // 16, 16)
    attention = cin * h + 2 * h + h * m * (n + 1) + m * (n + 1)
    assert _params(conv) == n * c_out * c_in * kc * kc + attention + (cout if bias else 0)


def test_kw1x_holds_as_many_kernel_parameters_as_a_static_convolution():
    conv = cvattn.create("kernelwarehouse", in_channels=32, out_channels=48, kernel_size=3)
    assert conv.warehouse.numel() == 48 * 32 * 3 * 3


def _reference(conv, x, temperature):
    """The kernel assembled cell by cell: each (position, output block, input block) of the kernel is the
    attention-weighted sum of the warehouse cells."""
    att = conv.attention
    z = att.fc1.weight.flatten(1) @ x.mean((1, 2))
    z = (z - att.norm.running_mean) / torch.sqrt(
        att.norm.running_var + att.norm.eps
    ) * att.norm.weight + att.norm.bias
    logits = (att.fc2.weight.flatten(1) @ z.clamp_min(0) + att.fc2.bias).reshape(att.num_mixtures, -1)
    a = logits / (logits.abs().sum(1, keepdim=True) + 1e-3)
    a = ((1 - temperature) * a + temperature * att.assignment)[:, :-1]
    c_out, c_in, kc, _ = conv.cell_shape
    k = conv.kernel_size
    positions, out_blocks, in_blocks = conv.split
    kernel = torch.zeros(conv.out_channels, conv.in_channels // conv.groups, k, k, dtype=x.dtype)
    j = 0
    for p in range(positions):
        for o in range(out_blocks):
            for i in range(in_blocks):
                cell = sum(a[j, c] * conv.warehouse[c] for c in range(conv.warehouse.shape[0]))
                rows, cols = slice(o * c_out, (o + 1) * c_out), slice(i * c_in, (i + 1) * c_in)
                if kc == 1:
                    kernel[rows, cols, p // k, p % k] = cell[:, :, 0, 0]
                else:
                    kernel[rows, cols] = cell
                j += 1
    bias = conv.bias if conv.bias is not None else None
    return F.conv2d(x[None], kernel, bias, conv.stride, conv.padding, conv.dilation, conv.groups)


@pytest.mark.parametrize(
    "kwargs",
    [
        {
            "in_channels": 8,
            "out_channels": 8,
            "kernel_size": 3,
            "padding": 1,
            "cell_num_ratio": 4.0,
            "bias": True,
        },
        {
            "in_channels": 8,
            "out_channels": 8,
            "kernel_size": 3,
            "padding": 1,
            "groups": 2,
            "cell_num_ratio": 0.5,
            "cell_inplane_ratio": 0.5,
            "cell_outplane_ratio": 0.5,
            "temperature": 0.4,
        },
        {
            "in_channels": 4,
            "out_channels": 8,
            "kernel_size": 3,
            "stride": 2,
            "padding": 2,
            "dilation": 2,
            "spatial_partition": False,
            "cell_outplane_ratio": 0.5,
            "cell_num_ratio": 2.0,
        },
    ],
)
def test_kernel_is_assembled_from_the_warehouse(kwargs):
    torch.manual_seed(0)
    conv = cvattn.create("kernelwarehouse", **kwargs).double().eval()
    with torch.no_grad():
        conv.attention.norm.running_mean.normal_(0, 0.2)
        conv.attention.norm.running_var.uniform_(0.5, 1.5)
        conv.attention.fc2.bias.normal_(0, 0.2)
    x = torch.randn(2, kwargs["in_channels"], 9, 8, dtype=torch.float64)
    out = conv(x)
    for n in range(2):
        torch.testing.assert_close(out[n : n + 1], _reference(conv, x[n], kwargs.get("temperature", 0.0)))


def test_temperature_one_starts_from_the_assigned_cells():
    """At t = 1 (start of training) every mixture is exactly its assigned cell: KW (1x) is then the static
    convolution whose kernel is the warehouse laid out in order."""
    conv = cvattn.create(
        "kernelwarehouse", in_channels=8, out_channels=4, kernel_size=3, padding=1, temperature=1.0
    )
    conv = conv.double().eval()
    x = torch.randn(2, 8, 6, 5, dtype=torch.float64)
    kernel = conv.warehouse[:, :, :, 0, 0].permute(1, 2, 0).reshape(4, 8, 3, 3)  # cell j = position j
    torch.testing.assert_close(conv(x), F.conv2d(x, kernel, padding=1))


def test_half_cells_assignment_uses_every_cell_once():
    conv = cvattn.create(
        "kernelwarehouse",
        in_channels=16,
        out_channels=16,
        cell_num_ratio=0.5,
        cell_inplane_ratio=0.5,
        cell_outplane_ratio=0.5,
    )
    b = conv.attention.assignment
    assert (b.sum(1) == 1).all() and (b[:, :-1].sum(0) == 1).all()


def test_untileable_cells_are_refused():
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("kernelwarehouse", in_channels=12, out_channels=12, cell_inplane_ratio=0.7)
