import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, k in [(64, 2), (32, 3)]:
        m = cvattn.create("efficientdet", channels=c, num_inputs=k)
        assert sum(p.numel() for p in m.parameters()) == k + 9 * c + (c * c + c) + 2 * c


def test_fusion_weights_are_normalised_and_non_negative():
    m = cvattn.create("efficientdet", channels=4, num_inputs=3).double().eval()
    with torch.no_grad():
        m.weight.copy_(torch.tensor([2.0, -1.0, 1.0]))
    a, b, c = (torch.randn(1, 4, 5, 5, dtype=torch.float64) for _ in range(3))
    fused = (2 * a + 0 * b + 1 * c) / (3 + 1e-4)  # ReLU drops the negative weight
    pw = m.pointwise
    y = F.conv2d(
        F.conv2d(F.silu(fused), m.depthwise.weight, padding=1, groups=4), pw.conv.weight, pw.conv.bias
    )
    y = (y - pw.bn.running_mean[:, None, None]) / torch.sqrt(pw.bn.running_var[:, None, None] + pw.bn.eps)
    torch.testing.assert_close(m(a, b, c), y * pw.bn.weight[:, None, None] + pw.bn.bias[:, None, None])
