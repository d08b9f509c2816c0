import torch

import cvattn


def _count(c, k, groups, num_groups):
    return (
        c * (c // groups) * k + 2 * c
    )  # 1D conv without bias + GroupNorm affine (independent of num_groups)


def test_parameter_count_closed_form():
    for c, k, groups, num_groups in [(64, 7, 64, 16), (64, 5, 8, 32), (48, 5, 6, 16)]:
        m = cvattn.create("ela", channels=c, kernel_size=k, groups=groups, num_groups=num_groups)
        assert sum(p.numel() for p in m.parameters()) == _count(c, k, groups, num_groups)


def _attention_vector(m, z, k, groups, num_groups):
    n, c, length = z.shape
    pad = torch.zeros(n, c, length + k - 1, dtype=z.dtype)
    pad[:, :, k // 2 : k // 2 + length] = z
    w = m.conv.weight  # (C, C/groups, k)
    cg = c // groups
    y = torch.zeros_like(z)
    for o in range(c):
        g = o // cg
        for t in range(length):
            window = pad[:, g * cg : (g + 1) * cg, t : t + k]  # (N, C/groups, k)
            y[:, o, t] = torch.einsum("nij,ij->n", window, w[o])
    y = y.reshape(n, num_groups, -1)
    mu, var = y.mean(-1, keepdim=True), y.var(-1, unbiased=False, keepdim=True)
    y = ((y - mu) / torch.sqrt(var + m.gn.eps)).reshape(n, c, length)
    y = y * m.gn.weight[:, None] + m.gn.bias[:, None]
    return 1 / (1 + torch.exp(-y))


def test_matches_reference():
    torch.manual_seed(0)
    x = torch.randn(2, 16, 7, 10, dtype=torch.float64)
    for k, groups, num_groups in [(7, 16, 4), (5, 2, 8)]:
        m = cvattn.create("ela", channels=16, kernel_size=k, groups=groups, num_groups=num_groups).double()
        with torch.no_grad():
            m.gn.weight.uniform_(0.5, 1.5)
            m.gn.bias.normal_(0, 0.2)
        y_h = _attention_vector(m, x.mean(3), k, groups, num_groups)
        y_w = _attention_vector(m, x.mean(2), k, groups, num_groups)
        want = x * y_h[:, :, :, None] * y_w[:, :, None, :]
        torch.testing.assert_close(m(x), want)


def test_shared_convolution_and_no_channel_reduction():
    m = cvattn.create("ela", channels=32)
    assert [n for n, _ in m.named_parameters()] == ["conv.weight", "gn.weight", "gn.bias"]
    x = torch.randn(1, 32, 6, 6)
    # transposing the input transposes the output: height and width share one convolution and one norm
    torch.testing.assert_close(m(x.transpose(2, 3)), m(x).transpose(2, 3))


def test_bad_arguments():
    import pytest

    for kw in [{"kernel_size": 4}, {"groups": 5}, {"num_groups": 7}]:
        with pytest.raises(ValueError):
            cvattn.create("ela", channels=64, **kw)
