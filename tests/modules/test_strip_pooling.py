import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c in (64, 32):
        m = cvattn.create("strip-pooling", channels=c)
        assert sum(p.numel() for p in m.parameters()) == 2 * (3 * c * c + 2 * c) + (c * c + c)


def test_matches_explicit_strips():
    m = cvattn.create("strip-pooling", channels=4).double().eval()
    x = torch.randn(1, 4, 5, 6, dtype=torch.float64)
    col = x.mean(3, keepdim=True).expand(-1, -1, -1, 6)  # every position sees its row's... column strip
    row = x.mean(2, keepdim=True).expand(-1, -1, 5, -1)
    bn = lambda b, t: (
        (t - b.running_mean[:, None, None])
        / torch.sqrt(b.running_var[:, None, None] + b.eps)
        * b.weight[:, None, None]
        + b.bias[:, None, None]
    )  # noqa: E731
    y_h = bn(m.bn_h, F.conv2d(col, m.conv_h.weight, padding=(1, 0)))
    y_w = bn(m.bn_w, F.conv2d(row, m.conv_w.weight, padding=(0, 1)))
    gate = torch.sigmoid(F.conv2d(F.relu(y_h + y_w), m.fuse.weight, m.fuse.bias))
    torch.testing.assert_close(m(x), x * gate)
