import torch
import torch.nn.functional as F

import cvattn
from cvattn.attention.bam import BatchNormAnyBatch2d


def _count(c, r, n=2):
    h = c // r
    channel = c * h + h + 2 * h + h * c + c
    spatial = c * h + h + 2 * h + n * (9 * h * h + h + 2 * h) + h + 1
    return channel + spatial


def test_parameter_count_closed_form():
    for c, r in [(64, 16), (256, 8)]:
        m = cvattn.create("bam", channels=c, reduction=r)
        assert sum(p.numel() for p in m.parameters()) == _count(c, r)


def _bn(t, bn):
    shape = (1, -1) + (1,) * (t.dim() - 2)
    return (t - bn.running_mean.view(shape)) / torch.sqrt(
        bn.running_var.view(shape) + bn.eps
    ) * bn.weight.view(shape) + bn.bias.view(shape)


def _reference(m, x, combine):
    ca, sa = m.channel_att, m.spatial_att
    z = x.flatten(2).mean(-1)  # (N, C), the official Linear + BatchNorm1d path
    z = F.relu(_bn(z @ ca[0].weight.flatten(1).T + ca[0].bias, ca[1]))
    m_c = (z @ ca[3].weight.flatten(1).T + ca[3].bias)[:, :, None, None]
    s = F.relu(_bn(F.conv2d(x, sa[0].weight, sa[0].bias), sa[1]))
    for i in (3, 6):
        s = F.relu(_bn(F.conv2d(s, sa[i].weight, sa[i].bias, padding=4, dilation=4), sa[i + 1]))
    m_s = F.conv2d(s, sa[9].weight, sa[9].bias)
    att = torch.sigmoid(m_c + m_s if combine == "add" else m_c * m_s)
    return (1 + att) * x


def test_matches_independent_reference():
    for combine in ("add", "mul"):
        m = cvattn.create("bam", channels=32, reduction=4, combine=combine).double().eval()
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
        x = torch.randn(2, 32, 9, 11, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x, combine))


def test_pooled_batch_norm_agrees_with_batchnorm_and_handles_batch_one():
    ours, ref = BatchNormAnyBatch2d(8), torch.nn.BatchNorm2d(8)
    x = torch.randn(4, 8, 1, 1)
    torch.testing.assert_close(ours(x), ref(x))
    torch.testing.assert_close(ours.running_mean, ref.running_mean)
    one = torch.randn(1, 8, 1, 1)
    before = ours.running_mean.clone()
    torch.testing.assert_close(ours(one), ref.eval()(one))  # running statistics, left unchanged
    torch.testing.assert_close(ours.running_mean, before)
