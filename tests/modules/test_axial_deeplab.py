import pytest
import torch

import cvattn


def _n(m):
    return sum(p.numel() for p in m.parameters())


def _randomise_bn(module):
    for bn in module.modules():
        if isinstance(bn, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.data.uniform_(0.5, 1.5)
            bn.bias.data.uniform_(-0.5, 0.5)


def _bn(x, bn, dim):
    shape = [1] * x.dim()
    shape[dim] = -1
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).view(shape)
    return (x - bn.running_mean.view(shape)) * scale + bn.bias.view(shape)


def _layer_by_hand(layer, x, along_width):
    """One eval-mode axial layer with explicit loops over sequences and an explicit softmax."""
    n, c, h, w = x.shape
    g, d, k = layer.groups, layer.group_channels, layer.kernel_size
    out = torch.zeros_like(x)
    length, others = (w, h) if along_width else (h, w)
    for b in range(n):
        for o in range(others):
            seq = x[b, :, o, :] if along_width else x[b, :, :, o]  # (C, L)
            qkv = _bn(layer.qkv_transform.weight[:, :, 0] @ seq, layer.bn_qkv, 0).view(g, 2 * d, length)
            q, kk, v = qkv[:, : d // 2], qkv[:, d // 2 : d], qkv[:, d:]
            rel = layer.relative  # (2d, 2K-1), column i - j + K - 1
            y = torch.zeros(g, 2, d, length, dtype=x.dtype)
            for gi in range(g):
                logits = torch.zeros(3, length, length, dtype=x.dtype)
                for i in range(length):
                    for j in range(length):
                        logits[0, i, j] = q[gi, :, i] @ kk[gi, :, j]
                        logits[1, i, j] = q[gi, :, i] @ rel[: d // 2, i - j + k - 1]
                        logits[2, i, j] = kk[gi, :, j] @ rel[d // 2 : d, j - i + k - 1]
                bn = layer.bn_similarity
                for t in range(3):
                    ch = t * g + gi
                    scale = bn.weight[ch] / torch.sqrt(bn.running_var[ch] + bn.eps)
                    logits[t] = (logits[t] - bn.running_mean[ch]) * scale + bn.bias[ch]
                e = torch.exp(logits.sum(0) - logits.sum(0).amax(1, keepdim=True))
                a = e / e.sum(1, keepdim=True)
                for i in range(length):
                    y[gi, 0, :, i] = (a[i] * v[gi]).sum(1)
                    y[gi, 1, :, i] = sum(a[i, j] * rel[d:, i - j + k - 1] for j in range(length))
            # BN over the 2C stacked outputs (channel = group, then [sv, sve] x d), then sum the pair
            y = y.permute(0, 2, 1, 3).reshape(2 * c, length)
            y = _bn(y, layer.bn_output, 0).view(c, 2, length).sum(1)
            if along_width:
                out[b, :, o, :] = y
            else:
                out[b, :, :, o] = y
    return out


def test_parameter_count_closed_form():
    for c, g, k in [(64, 8, 56), (32, 4, 14)]:
        m = cvattn.create("axial-deeplab", channels=c, groups=g, kernel_size=k)
        per_layer = c * 2 * c + 2 * (2 * c) + 2 * (3 * g) + 2 * (2 * c) + (2 * c // g) * (2 * k - 1)
        assert _n(m) == 2 * per_layer


def test_matches_reference_on_a_non_square_map_shorter_than_the_span():
    torch.manual_seed(0)
    m = cvattn.create("axial-deeplab", channels=8, groups=2, kernel_size=8).double().eval()
    _randomise_bn(m)
    x = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    expected = _layer_by_hand(m.width_block, _layer_by_hand(m.height_block, x, False), True)
    torch.testing.assert_close(m(x), expected)


def test_height_layer_mixes_only_within_columns():
    torch.manual_seed(1)
    m = cvattn.create("axial-deeplab", channels=8, groups=2, kernel_size=6).double().eval()
    x = torch.randn(1, 8, 6, 5, dtype=torch.float64)
    x2 = x.clone()
    x2[:, :, :, 3] += 1.0
    changed = (m.height_block(x2) - m.height_block(x)).abs().amax(dim=(0, 1, 2))
    assert changed[3] > 0 and torch.all(changed[[0, 1, 2, 4]] == 0)


def test_axes_longer_than_the_span_raise():
    m = cvattn.create("axial-deeplab", channels=16, groups=2, kernel_size=6)
    with pytest.raises(ValueError, match="kernel_size"):
        m(torch.randn(1, 16, 6, 7))


@pytest.mark.parametrize("kwargs", [{"groups": 3}, {"groups": 16}, {"kernel_size": 0}])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        cvattn.create("axial-deeplab", channels=16, **kwargs)
