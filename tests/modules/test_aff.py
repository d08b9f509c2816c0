import torch
import torch.nn.functional as F

import cvattn


def _n_params(id, **kwargs):
    return sum(p.numel() for p in cvattn.create(id, **kwargs).parameters())


def _mscam_count(c, r):
    h = c // r
    return 2 * (c * h + h + 2 * h + h * c + c + 2 * c)


def test_parameter_count_closed_form():
    for c, r in [(64, 4), (256, 16)]:
        assert _n_params("aff-mscam", channels=c, reduction=r) == _mscam_count(c, r)
        assert _n_params("aff", channels=c, reduction=r) == _mscam_count(c, r)
        assert _n_params("aff-iaff", channels=c, reduction=r) == 2 * _mscam_count(c, r)


def _bottleneck(seq, t):
    """conv1x1 -> eval BN -> ReLU -> conv1x1 -> eval BN, by einsum on (N, C, H, W)."""

    def bn(z, b):
        s = (1, -1, 1, 1)
        return (z - b.running_mean.view(s)) / torch.sqrt(b.running_var.view(s) + b.eps) * b.weight.view(
            s
        ) + b.bias.view(s)

    z = torch.einsum("oc,nchw->nohw", seq[0].weight.flatten(1), t) + seq[0].bias.view(1, -1, 1, 1)
    z = F.relu(bn(z, seq[1]))
    z = torch.einsum("oc,nchw->nohw", seq[3].weight.flatten(1), z) + seq[3].bias.view(1, -1, 1, 1)
    return bn(z, seq[4])


def _weights(mscam, t):
    g = _bottleneck(mscam.global_att, t.mean((2, 3), keepdim=True))
    return torch.sigmoid(_bottleneck(mscam.local_att, t) + g)


def _randomise(m):
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 2.0)
            mod.weight.data.uniform_(0.5, 1.5)
    return m


def test_matches_independent_reference():
    x = torch.randn(2, 16, 6, 7, dtype=torch.float64)
    y = torch.randn(2, 16, 6, 7, dtype=torch.float64)
    ms = _randomise(cvattn.create("aff-mscam", channels=16).double().eval())
    torch.testing.assert_close(ms(x), x * _weights(ms, x))
    aff = _randomise(cvattn.create("aff", channels=16).double().eval())
    m = _weights(aff.mscam, x + y)
    torch.testing.assert_close(aff(x, y), 2 * x * m + 2 * y * (1 - m))
    iaff = _randomise(cvattn.create("aff-iaff", channels=16).double().eval())
    m1 = _weights(iaff.mscam1, x + y)
    xi = x * m1 + y * (1 - m1)
    m2 = _weights(iaff.mscam2, xi)  # the second stage's own global branch (MXNet global_att2)
    torch.testing.assert_close(iaff(x, y), x * m2 + y * (1 - m2))


def test_equal_weights_reduce_aff_to_addition():
    aff = cvattn.create("aff", channels=8).eval()
    for p in aff.parameters():
        p.data.zero_()  # logits 0 -> M = 0.5 everywhere
    x, y = torch.randn(1, 8, 5, 5), torch.randn(1, 8, 5, 5)
    torch.testing.assert_close(aff(x, y), x + y)
