import pytest
import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    # BN(C_in) + heads * (FC1 without bias + FC2 with bias) + conv (C_out, C_in, k, k)
    for cin, cout, k, heads, red in [(64, 64, 3, 4, 16), (128, 96, 1, 8, 16)]:
        m = cvattn.create(
            "dgc", in_channels=cin, out_channels=cout, kernel_size=k, heads=heads, reduction=red
        )
        hidden = cin // (red // 2 if cin < 80 else red)  # squeeze rate halved below 80 channels
        expected = 2 * cin + heads * (cin * hidden + hidden * cin + cin) + cout * cin * k * k
        assert sum(p.numel() for p in m.parameters()) == expected


def _bn_eval(bn, t):
    return (t - bn.running_mean[:, None, None]) / torch.sqrt(
        bn.running_var[:, None, None] + bn.eps
    ) * bn.weight[:, None, None] + bn.bias[:, None, None]


def test_one_sample_recomputed_by_hand():
    torch.manual_seed(0)
    cin, cout, heads = 16, 8, 4
    m = cvattn.create(
        "dgc", in_channels=cin, out_channels=cout, kernel_size=3, stride=2, padding=1, heads=heads
    ).double()
    with torch.no_grad():
        m.norm.running_mean.uniform_(-0.5, 0.5)
        m.norm.running_var.uniform_(0.5, 2.0)
        m.norm.weight.uniform_(0.5, 1.5)
        m.norm.bias.uniform_(-0.2, 0.5)
    m.eval()
    x = torch.randn(3, cin, 9, 11, dtype=torch.float64)
    out = m(x)
    keep = cin - round(cin * 0.75)  # gate_factor 0.25: 4 of 16 channels per head
    for n in range(3):
        x_n = torch.relu(_bn_eval(m.norm, x[n]))  # (C_in, H, W)
        z = x_n.mean((1, 2))
        ref = torch.empty(cout, *out.shape[2:], dtype=torch.float64)
        for h, gen in enumerate(m.saliency):
            g = torch.relu(gen.fc2.weight @ torch.relu(gen.fc1.weight @ z) + gen.fc2.bias)
            chosen = torch.zeros(cin, dtype=torch.bool)
            chosen[g.argsort(descending=True)[:keep]] = True  # the most salient channels
            w_h = m.conv.weight[h * cout // heads : (h + 1) * cout // heads]  # head h's filters
            # conv of the masked input == conv of the input with saliency-scaled, masked weights
            masked_w = w_h * (g * chosen)[None, :, None, None]
            y_h = F.conv2d(x_n[None], masked_w, stride=2, padding=1)[0]
            y_h_input = F.conv2d((x_n * (g * chosen)[:, None, None])[None], w_h, stride=2, padding=1)[0]
            torch.testing.assert_close(y_h, y_h_input)
            ref[h::heads] = y_h  # output channel j * heads + h is filter j of head h
        torch.testing.assert_close(out[n], ref)


def test_unselected_channels_get_no_weight_gradient():
    torch.manual_seed(1)
    m = cvattn.create("dgc", in_channels=16, out_channels=4, kernel_size=1, heads=1, gate_factor=0.5).double()
    x = torch.randn(1, 16, 5, 5, dtype=torch.float64)
    m(x).sum().backward()
    touched = m.conv.weight.grad.abs().sum((0, 2, 3)) > 0
    assert touched.sum() <= 8  # at most the 8 kept channels, none of the pruned ones


def test_progress_schedule_and_lasso():
    m = cvattn.create("dgc", in_channels=64, out_channels=64, padding=1, return_lasso=True)
    assert m.inactive_channels == 48
    schedule = []
    for p in (0.0, 1 / 12, 0.25, 0.5, 0.75, 1.0):
        m.set_progress(p)
        schedule.append(m.inactive_channels)
    assert schedule == [0, 0, round(48 * 1.5 / 6), round(48 * 1.5 * 5 / 12), 48, 48]
    m.set_progress(0.0)
    m.eval()
    x = torch.randn(2, 64, 6, 6)
    y, lasso = m(x)
    z = torch.relu(m.norm(x)).mean((2, 3))
    expected = sum(torch.relu(g.fc2(torch.relu(g.fc1(z)))).mean() for g in m.saliency)
    torch.testing.assert_close(lasso, expected)
    assert y.shape == (2, 64, 6, 6)


def test_rejects_bad_configuration():
    with pytest.raises(ValueError, match="heads"):
        cvattn.create("dgc", in_channels=30, out_channels=32, heads=4)
    with pytest.raises(ValueError, match="gate_factor"):
        cvattn.create("dgc", gate_factor=0.0)
