import torch
import torch.nn.functional as F

import cvattn


def closed_form(cin, cout, ks=(3, 5, 7, 9), gs=(1, 4, 8, 16), r=16):
    split = cout // len(ks)
    convs = sum(k * k * (cin // g) * split for k, g in zip(ks, gs, strict=True))
    h = max(1, split // r)
    return convs + (split * h + h) + (h * split + split)


def test_parameter_count_closed_form():
    for cin, cout in [(64, 64), (128, 256)]:
        m = cvattn.create("epsanet", in_channels=cin, out_channels=cout)
        assert sum(p.numel() for p in m.parameters()) == closed_form(cin, cout)


def test_softmax_across_scales_of_shared_se_weights():
    m = cvattn.create("epsanet", in_channels=32, out_channels=64).double()
    x = torch.randn(2, 32, 6, 7, dtype=torch.float64)
    feats = [conv(x) for conv in m.convs]
    conv1, _, conv2 = m.se
    z = [
        torch.sigmoid(
            F.conv2d(
                F.relu(F.conv2d(fi.mean((2, 3), keepdim=True), conv1.weight, conv1.bias)),
                conv2.weight,
                conv2.bias,
            )
        )
        for fi in feats
    ]
    zs = torch.stack(z, 0)
    att = zs.exp() / zs.exp().sum(0, keepdim=True)
    torch.testing.assert_close(att.sum(0), torch.ones_like(att[0]))
    # the official PSAModule concatenates the weighted branches last first: cat(F_4, F_3, F_2, F_1)
    expected = torch.cat([att[i] * feats[i] for i in reversed(range(4))], 1)
    torch.testing.assert_close(m(x), expected)
