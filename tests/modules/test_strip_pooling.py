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
    y_h = _bn(m.bn_h, F.conv2d(col, m.conv_h.weight, padding=(1, 0)))
    y_w = _bn(m.bn_w, F.conv2d(row, m.conv_w.weight, padding=(0, 1)))
    gate = torch.sigmoid(F.conv2d(F.relu(y_h + y_w), m.fuse.weight, m.fuse.bias))
    torch.testing.assert_close(m(x), x * gate)


def _bn(b, t):
    return (t - b.running_mean[:, None, None]) / torch.sqrt(b.running_var[:, None, None] + b.eps) * b.weight[
        :, None, None
    ] + b.bias[:, None, None]


def test_mpm_parameter_count_closed_form():
    for c, red in [(64, 4), (96, 8)]:
        m = cvattn.create("strip-pooling-mpm", channels=c, reduction=red)
        r = c // red
        reduce = 2 * (c * r + 2 * r)  # two 1x1 conv-BN
        square = 5 * (9 * r * r + 2 * r)  # conv2_0, the two pool convs, two fusing convs (3x3 conv-BN)
        strip = 2 * (3 * r * r + 2 * r)  # 1x3 and 3x1 conv-BN
        project = 2 * r * c + 2 * c  # 1x1 conv-BN back to C
        assert sum(p.numel() for p in m.parameters()) == reduce + square + strip + project


def test_mpm_matches_explicit_branches():
    torch.manual_seed(0)
    m = cvattn.create("strip-pooling-mpm", channels=8, reduction=4, pool_size=(4, 3)).double()
    for bn in (mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)):
        with torch.no_grad():
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    m.eval()
    x = torch.randn(2, 8, 7, 9, dtype=torch.float64)

    def cna(block, t, pad, act=True):
        y = _bn(block.bn, F.conv2d(t, block.conv.weight, padding=pad))
        return F.relu(y) if act else y

    def avg_pool(t, s):  # adaptive average pool by its definition: bin [floor(i*H/s), ceil((i+1)*H/s))
        h, w = t.shape[2:]
        rows = [t[:, :, (i * h) // s : -(-(i + 1) * h // s)] for i in range(s)]
        return torch.stack(
            [
                torch.stack([r[..., (j * w) // s : -(-(j + 1) * w // s)].mean((2, 3)) for j in range(s)], -1)
                for r in rows
            ],
            -2,
        )

    def up(t, h, w):  # bilinear, corners aligned
        s_h, s_w = t.shape[2], t.shape[3]
        ys = torch.linspace(0, s_h - 1, h, dtype=t.dtype)
        xs = torch.linspace(0, s_w - 1, w, dtype=t.dtype)
        y0, x0 = ys.floor().long().clamp(max=s_h - 1), xs.floor().long().clamp(max=s_w - 1)
        y1, x1 = (y0 + 1).clamp(max=s_h - 1), (x0 + 1).clamp(max=s_w - 1)
        wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
        top = t[:, :, y0][..., x0] * (1 - wx) + t[:, :, y0][..., x1] * wx
        bot = t[:, :, y1][..., x0] * (1 - wx) + t[:, :, y1][..., x1] * wx
        return top * (1 - wy) + bot * wy

    h, w = 7, 9
    x1 = cna(m.reduce_short, x, 0)
    x2 = cna(m.reduce_long, x, 0)
    short = (
        cna(m.conv_local, x1, 1, False)
        + up(cna(m.conv_pool1, avg_pool(x1, 4), 1, False), h, w)
        + up(cna(m.conv_pool2, avg_pool(x1, 3), 1, False), h, w)
    )
    long = cna(m.conv_w, x2.mean(2, keepdim=True), (0, 1), False).expand(-1, -1, h, -1) + cna(
        m.conv_h, x2.mean(3, keepdim=True), (1, 0), False
    ).expand(-1, -1, -1, w)
    out = cna(
        m.project,
        torch.cat([cna(m.fuse_short, F.relu(short), 1), cna(m.fuse_long, F.relu(long), 1)], 1),
        0,
        False,
    )
    torch.testing.assert_close(m(x), F.relu(x + out))
