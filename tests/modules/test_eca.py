import torch

import cvattn
from cvattn.attention.eca import eca_kernel_size


def test_adaptive_kernel_size_rule():
    # |log2(C)/2 + 1/2|_odd, computed by hand for the ResNet widths
    assert [eca_kernel_size(c) for c in (64, 128, 256, 512, 1024, 2048)] == [3, 5, 5, 5, 5, 7]
    assert cvattn.create("eca", channels=2048).kernel_size == 7
    assert cvattn.create("eca", channels=2048, kernel_size=3).kernel_size == 3


def test_parameter_count_closed_form():
    for c, k in [(64, None), (512, 9)]:
        m = cvattn.create("eca", channels=c, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == (k or eca_kernel_size(c))


def test_gate_matches_explicit_neighbourhood_sum():
    m = cvattn.create("eca", channels=16, kernel_size=5).double().eval()
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    w = m.conv.weight.flatten()
    y = x.mean((2, 3))
    pad = torch.nn.functional.pad(y, (2, 2))
    logits = torch.stack([sum(w[j] * pad[:, c + j] for j in range(5)) for c in range(16)], 1)
    torch.testing.assert_close(m(x), x * torch.sigmoid(logits)[:, :, None, None])
