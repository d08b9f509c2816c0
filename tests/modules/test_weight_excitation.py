import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for cin, cout, k, g, r in [(32, 64, 3, 1, 16), (48, 48, 5, 4, 8)]:
        m = cvattn.create(
            "weight-excitation", in_channels=cin, out_channels=cout, kernel_size=k, groups=g, reduction=r
        )
        h = max(cin // r, 1)
        conv = cout * (cin // g) * k * k + cout
        lwe = (cin // g) * h + h + h * (cin // g) + cin // g  # FC C_in/g -> h -> C_in/g, with biases
        assert sum(p.numel() for p in m.parameters()) == conv + lwe
        assert sum(p.numel() for p in m.to_conv2d().parameters()) == conv


def _excited_by_hand(m, w):
    out = torch.empty_like(w)
    for o in range(w.shape[0]):  # LWE: one pass of the shared sub-network per output channel
        z = w[o].mean((1, 2))
        a = torch.sigmoid(m.fc2.weight @ torch.relu(m.fc1.weight @ z + m.fc1.bias) + m.fc2.bias)
        out[o] = w[o] * a[:, None, None]
    m_a = 1.1 * out.abs().max()  # MWE with eps_A = 0.1
    return m_a * 0.5 * torch.log((1 + out / m_a) / (1 - out / m_a))


def test_output_is_conv_with_the_excited_kernel():
    m = cvattn.create(
        "weight-excitation",
        in_channels=8,
        out_channels=12,
        kernel_size=3,
        stride=2,
        padding=2,
        dilation=2,
        groups=2,
    ).double()
    x = torch.randn(2, 8, 11, 9, dtype=torch.float64)
    w = _excited_by_hand(m, m.weight.detach())
    torch.testing.assert_close(m(x), F.conv2d(x, w, m.bias, 2, 2, 2, 2))
    assert not torch.allclose(w, m.weight.detach())  # the excitation does change the kernel


def test_magnitude_excitation_amplifies_large_weights_and_their_gradient():
    m = cvattn.create("weight-excitation", in_channels=4, out_channels=4, kernel_size=1, lwe=False).double()
    w = m.weight.detach()
    we = m.excited_weight()
    m_a = 1.1 * w.abs().max()
    gain = we.detach().abs() / w.abs()
    assert (gain >= 1).all() and gain.flatten()[w.abs().argmax()] > gain.flatten()[w.abs().argmin()]
    # at fixed M_A the derivative is M_A^2 / (M_A^2 - w^2), largest for the largest weight
    torch.testing.assert_close(
        torch.autograd.functional.jacobian(lambda t: m_a * torch.atanh(t / m_a), w[0, :, 0, 0]).diagonal(),
        m_a**2 / (m_a**2 - w[0, :, 0, 0] ** 2),
    )


def test_folded_conv_equals_training_form():
    m = cvattn.create(
        "weight-excitation", in_channels=16, out_channels=8, kernel_size=3, padding=1, standardize=True
    ).double()
    x = torch.randn(3, 16, 13, 17, dtype=torch.float64)
    plain = m.to_conv2d()
    assert type(plain) is torch.nn.Conv2d
    assert (plain(x) - m(x)).abs().max() <= 1e-5
    w = m.weight.detach()
    centred = w - w.mean((1, 2, 3), keepdim=True)  # Weight Standardization per output channel
    ws = centred / (centred.flatten(1).std(1).view(-1, 1, 1, 1) + 1e-5)
    torch.testing.assert_close(plain.weight, _excited_by_hand(m, ws))
