import torch
import torch.nn.functional as F

import cvattn


def closed_form(cin, cout, r=2):
    b = cout // r
    return (cin * b + 2 * b) + (3 * b + 2 * b) + (3 * b + 2 * b) + (2 * b * cout + 2 * cout)


def test_parameter_count_closed_form():
    for cin, cout, r in [(32, 64, 2), (24, 40, 4)]:
        m = cvattn.create("effnet", in_channels=cin, out_channels=cout, reduction=r)
        assert sum(p.numel() for p in m.parameters()) == closed_form(cin, cout, r)


def _bn(z, bn):
    s = (1, -1, 1, 1)
    return (z - bn.running_mean.view(s)) / (bn.running_var.view(s) + bn.eps).sqrt() * bn.weight.view(
        s
    ) + bn.bias.view(s)


def test_block_matches_reference():
    m = cvattn.create("effnet", in_channels=6, out_channels=10).double()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
    m.eval()
    x = torch.randn(2, 6, 13, 17, dtype=torch.float64)

    def post(z, unit):  # LeakyReLU (Keras slope 0.3), then BN
        return _bn(F.leaky_relu(z, 0.3), unit.bn)

    b = 5
    z = post(F.conv2d(x, m.bottleneck.conv.weight), m.bottleneck)
    # depthwise 1x3 along the width, by hand: each channel's taps on W-1, W, W+1
    zp = F.pad(z, (1, 1, 0, 0))
    k = m.dw_1x3.conv.weight[:, 0, 0, :]  # (b, 3)
    z = sum(k[:, t].view(1, b, 1, 1) * zp[:, :, :, t : t + 17] for t in range(3))
    z = post(z, m.dw_1x3)
    z = torch.maximum(z[:, :, :, 0:16:2], z[:, :, :, 1:16:2])  # 1x2 max-pool: W 17 -> 8
    zp = F.pad(z, (0, 0, 1, 1))
    k = m.dw_3x1.conv.weight[:, 0, :, 0]
    z = sum(k[:, t].view(1, b, 1, 1) * zp[:, :, t : t + 13, :] for t in range(3))
    z = post(z, m.dw_3x1)
    # 2x1 conv with stride 2 along the height: rows (2i, 2i+1) -> row i
    w = m.conv_2x1.conv.weight  # (10, b, 2, 1)
    z = torch.einsum("oc,nchw->nohw", w[:, :, 0, 0], z[:, :, 0:12:2]) + torch.einsum(
        "oc,nchw->nohw", w[:, :, 1, 0], z[:, :, 1:12:2]
    )
    expected = post(z, m.conv_2x1)
    with torch.no_grad():
        out = m(x)
    assert out.shape == (2, 10, 6, 8)
    torch.testing.assert_close(out, expected)
