import pytest
import torch
import torch.nn.functional as F

import cvattn


@pytest.mark.parametrize("bias", [False, True])
def test_parameter_count_closed_form(bias):
    for c, h in [(48, 1), (96, 2), (384, 8)]:
        m = cvattn.create("restormer-mdta", channels=c, num_heads=h, bias=bias)
        assert sum(p.numel() for p in m.parameters()) == h + 3 * c * c + 27 * c + c * c + bias * 7 * c
    for c, gamma in [(48, 2.66), (192, 2.66), (32, 4.0)]:
        m = cvattn.create("restormer-gdfn", channels=c, expansion_factor=gamma, bias=bias)
        hid = int(c * gamma)
        assert sum(p.numel() for p in m.parameters()) == 3 * c * hid + 18 * hid + bias * (4 * hid + c)


def test_mdta_matches_per_head_reference():
    m = cvattn.create("restormer-mdta", channels=12, num_heads=3, bias=True).double()
    with torch.no_grad():
        m.temperature.copy_(torch.tensor([0.5, 2.0, 3.0]).view(3, 1, 1))
    x = torch.randn(2, 12, 5, 7, dtype=torch.float64)
    qkv = F.conv2d(
        F.conv2d(x, m.qkv.weight, m.qkv.bias), m.qkv_dwconv.weight, m.qkv_dwconv.bias, padding=1, groups=36
    )
    q, k, v = qkv[:, :12].flatten(2), qkv[:, 12:24].flatten(2), qkv[:, 24:].flatten(2)  # (N, C, HW)
    out = torch.zeros_like(v)
    for head in range(3):
        sl = slice(4 * head, 4 * head + 4)
        qh = q[:, sl] / q[:, sl].norm(dim=-1, keepdim=True)
        kh = k[:, sl] / k[:, sl].norm(dim=-1, keepdim=True)
        logits = m.temperature[head] * torch.einsum("nip,njp->nij", qh, kh)  # (N, d, d): channel x channel
        a = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)
        out[:, sl] = torch.einsum("nij,njp->nip", a, v[:, sl])
    ref = F.conv2d(out.reshape(2, 12, 5, 7), m.project_out.weight, m.project_out.bias)
    torch.testing.assert_close(m(x), ref)


def test_mdta_is_equivariant_to_position_permutations():
    # attention is over channels, so positions only enter through the 3x3 depth-wise conv: with that conv
    # made the identity, permuting the positions permutes the output the same way
    m = cvattn.create("restormer-mdta", channels=8, num_heads=2).double()
    with torch.no_grad():
        m.qkv_dwconv.weight.zero_()
        m.qkv_dwconv.weight[:, :, 1, 1] = 1.0
    y = torch.randn(2, 8, 1, 9, dtype=torch.float64)
    perm = torch.randperm(9)
    torch.testing.assert_close(m(y[..., perm]), m(y)[..., perm])


def test_gdfn_matches_reference():
    m = cvattn.create("restormer-gdfn", channels=6, expansion_factor=2.66, bias=True).double()
    x = torch.randn(2, 6, 4, 5, dtype=torch.float64)
    hid = int(6 * 2.66)
    z = F.conv2d(x, m.project_in.weight, m.project_in.bias)
    z = F.conv2d(z, m.dwconv.weight, m.dwconv.bias, padding=1, groups=2 * hid)
    gelu = 0.5 * z[:, :hid] * (1 + torch.erf(z[:, :hid] / 2**0.5))  # exact GELU
    ref = F.conv2d(gelu * z[:, hid:], m.project_out.weight, m.project_out.bias)
    torch.testing.assert_close(m(x), ref)
