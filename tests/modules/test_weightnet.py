import pytest
import torch
import torch.nn.functional as F

import cvattn


def _params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize(
    ("cin", "cout", "k", "m", "g"), [(32, 32, 3, 2, 2), (288, 8, 1, 4, 2), (16, 24, 1, 1, 1)]
)
def test_parameter_count_closed_form(cin, cout, k, m, g):
    conv = cvattn.create(
        "weightnet", in_channels=cin, out_channels=cout, kernel_size=k, expansion=m, weight_groups=g
    )
    r = max(16, cin // 16)
    reduce, fc1, fc2 = cin * r + r, r * m * cout + m * cout, cout * cin * k * k * m // g
    assert _params(conv) == reduce + fc1 + fc2


@pytest.mark.parametrize(("c", "k", "m", "g"), [(32, 3, 2, 2), (64, 5, 4, 2)])
def test_depthwise_parameter_count_closed_form(c, k, m, g):
    conv = cvattn.create("weightnet-dw", channels=c, kernel_size=k, expansion=m, weight_groups=g)
    r, h = max(16, c // 16), m // g * c
    assert _params(conv) == (c * r + r) + (r * h + h) + c * k * k * m // g


def _generated(conv, xn):
    """The kernel of one example, computed from the paper's equations with plain matrix products."""
    z = conv.reduce.weight.flatten(1) @ xn.mean((1, 2)) + conv.reduce.bias
    a = torch.sigmoid(conv.fc1.weight.flatten(1) @ z + conv.fc1.bias)
    w2 = conv.fc2.weight.flatten(1)  # (outputs, inputs per group)
    groups = conv.fc2.groups
    a_groups = a.reshape(groups, -1)  # each group of the attention vector feeds one block of outputs
    return torch.cat([w2_g @ a_g for w2_g, a_g in zip(w2.chunk(groups), a_groups, strict=True)])


def test_kernel_is_generated_per_example():
    conv = cvattn.create("weightnet", in_channels=12, out_channels=8, kernel_size=3, stride=2).double()
    x = torch.randn(3, 12, 9, 7, dtype=torch.float64)
    out = conv(x)
    for n in range(3):
        w = _generated(conv, x[n]).reshape(8, 12, 3, 3)
        torch.testing.assert_close(out[n : n + 1], F.conv2d(x[n : n + 1], w, stride=2, padding=1))


def test_depthwise_kernel_is_generated_per_example():
    conv = cvattn.create("weightnet-dw", channels=16, kernel_size=5, stride=2).double()
    x = torch.randn(2, 16, 8, 11, dtype=torch.float64)
    out = conv(x)
    for n in range(2):
        w = _generated(conv, x[n]).reshape(16, 1, 5, 5)
        torch.testing.assert_close(out[n : n + 1], F.conv2d(x[n : n + 1], w, stride=2, padding=2, groups=16))


def test_examples_do_not_mix():
    conv = cvattn.create("weightnet", in_channels=16, out_channels=16, kernel_size=1).double()
    x = torch.randn(4, 16, 5, 5, dtype=torch.float64)
    torch.testing.assert_close(conv(x)[2:3], conv(x[2:3]))


def test_m_must_be_a_multiple_of_g():
    with pytest.raises(ValueError, match="expected"):
        cvattn.create("weightnet", in_channels=16, out_channels=16, expansion=3, weight_groups=2)
