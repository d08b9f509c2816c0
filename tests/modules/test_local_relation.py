import pytest
import torch

import cvattn


def test_parameter_count_closed_form():
    for c, m, k, hidden in [(64, 8, 7, None), (32, 4, 3, 5)]:
        mod = cvattn.create(
            "local-relation", channels=c, channels_per_group=m, kernel_size=k, geometry_hidden=hidden
        )
        g = c // m
        h = hidden if hidden is not None else max(1, g // 2)
        assert sum(p.numel() for p in mod.parameters()) == 2 * c * g + (2 * h + h) + (h * g + g)


def _reference(mod, x):
    """The layer's equation written out pixel by pixel, window position by window position."""
    n, c, height, width = x.shape
    g, k = mod.groups, mod.kernel_size
    r, m = k // 2, c // g
    q = torch.einsum("gc,nchw->nghw", mod.query.weight[:, :, 0, 0], x)
    key = torch.einsum("gc,nchw->nghw", mod.key.weight[:, :, 0, 0], x)
    l1, l2 = mod.geometry[0], mod.geometry[2]
    out = torch.zeros_like(x)
    for i in range(height):
        for j in range(width):
            logits, values = [], []
            for a in range(i - r, i + r + 1):
                for b in range(j - r, j + r + 1):
                    if not (0 <= a < height and 0 <= b < width):
                        continue
                    offset = torch.tensor([a - i, b - j], dtype=x.dtype)
                    prior = (
                        l2.weight[:, :, 0, 0] @ torch.relu(l1.weight[:, :, 0, 0] @ offset + l1.bias) + l2.bias
                    )
                    qv, kv = q[:, :, i, j], key[:, :, a, b]
                    phi = {
                        "multiply": qv * kv,
                        "squared_difference": -((qv - kv) ** 2),
                        "absolute_difference": -(qv - kv).abs(),
                    }[mod.composability]
                    logits.append(phi + prior)  # (N, G)
                    values.append(x[:, :, a, b].reshape(n, g, m))
            omega = torch.softmax(torch.stack(logits, -1), -1)  # (N, G, P)
            out[:, :, i, j] = torch.einsum("ngp,npgm->ngm", omega, torch.stack(values, 1)).reshape(n, c)
    return out


@pytest.mark.parametrize("composability", ["multiply", "squared_difference", "absolute_difference"])
def test_matches_pixelwise_reference(composability):
    torch.manual_seed(0)
    mod = cvattn.create(
        "local-relation", channels=8, channels_per_group=2, kernel_size=3, composability=composability
    ).double()
    x = torch.randn(2, 8, 4, 5, dtype=torch.float64)
    torch.testing.assert_close(mod(x), _reference(mod, x))


def test_kernel_five_non_square_matches_reference():
    torch.manual_seed(1)
    mod = cvattn.create("local-relation", channels=6, channels_per_group=3, kernel_size=5).double()
    x = torch.randn(1, 6, 3, 7, dtype=torch.float64)
    torch.testing.assert_close(mod(x), _reference(mod, x))


def test_weights_are_shared_within_a_group():
    # a constant input within each group: the output is a convex combination of that constant
    mod = cvattn.create("local-relation", channels=16, channels_per_group=8, kernel_size=3)
    x = torch.randn(1, 2, 1, 1).repeat_interleave(8, 1).expand(1, 16, 5, 6).contiguous()
    torch.testing.assert_close(mod(x), x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="divisible"):
        cvattn.create("local-relation", channels=12, channels_per_group=8)
    with pytest.raises(ValueError, match="odd"):
        cvattn.create("local-relation", channels=16, kernel_size=4)
    with pytest.raises(ValueError, match="composability"):
        cvattn.create("local-relation", channels=16, composability="dot")
