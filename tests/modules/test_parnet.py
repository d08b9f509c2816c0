import torch

import cvattn


def _count(c, g):
    return 2 * c + c * (c // g)  # BN scale and shift, 1x1 excitation conv without bias


def test_parameter_count_closed_form():
    for c, g in [(64, 1), (96, 4), (7, 1)]:
        m = cvattn.create("parnet-sse", channels=c, groups=g)
        assert sum(p.numel() for p in m.parameters()) == _count(c, g)


def _reference(m, x):
    bn = m.bn
    z = (x - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    z = z * bn.weight[:, None, None] + bn.bias[:, None, None]
    pooled = z.sum((2, 3)) / (x.shape[2] * x.shape[3])  # (N, C)
    logits = torch.einsum("oc,nc->no", m.fc.weight[:, :, 0, 0], pooled)
    s = 1 / (1 + torch.exp(-logits))
    return z * s[:, :, None, None]


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("parnet-sse", channels=10).double().eval()
    with torch.no_grad():
        m.bn.running_mean.normal_(0, 0.3)
        m.bn.running_var.uniform_(0.5, 1.5)
        m.bn.weight.uniform_(0.5, 1.5)
        m.bn.bias.normal_(0, 0.3)
    x = torch.randn(2, 10, 5, 8, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_grouped_gate_only_mixes_within_a_group():
    torch.manual_seed(1)
    m = cvattn.create("parnet-sse", channels=8, groups=2).double().eval()
    x = torch.randn(1, 8, 4, 5, dtype=torch.float64)
    x2 = x.clone()
    x2[:, 4:] += torch.randn(1, 4, 4, 5, dtype=torch.float64)  # change only the second group
    torch.testing.assert_close(m(x)[:, :4], m(x2)[:, :4])
