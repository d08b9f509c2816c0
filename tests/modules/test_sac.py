import pytest
import torch
import torch.nn.functional as F

import cvattn


def _randomise(m):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
        m.weight_gamma.uniform_(0.5, 1.5)
        m.weight_beta.normal_(0, 0.1)
    return m


@pytest.mark.parametrize("deform", [False, True])
def test_parameter_count_closed_form(deform):
    cin, cout, k, g = 16, 24, 3, 2
    m = cvattn.create("sac", in_channels=cin, out_channels=cout, kernel_size=k, groups=g, use_deform=deform)
    conv = cout * cin // g * k * k
    expected = 2 * conv + cout  # weight, weight_diff, shared bias
    expected += cin + 1 + cin * cin + cin + cout * cout + cout  # switch, pre- and post-context
    if deform:
        expected += 2 * (cin * 2 * k * k * 9 + 2 * k * k)  # two 3x3 offset convs
    assert sum(p.numel() for p in m.parameters()) == expected


def _aws(w, gamma, beta):
    out = torch.empty_like(w)
    for o in range(w.shape[0]):
        v = w[o].flatten()
        centred = v - v.sum() / v.numel()
        std = ((centred**2).sum() / (v.numel() - 1) + 1e-5) ** 0.5
        out[o] = gamma[o] * (centred / std).view_as(w[o]) + beta[o]
    return out


@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 2)])
def test_plain_path_matches_the_equations(stride, dilation):
    m = _randomise(
        cvattn.create(
            "sac",
            in_channels=8,
            out_channels=6,
            stride=stride,
            padding=dilation,
            dilation=dilation,
            use_deform=False,
        )
    ).double()
    x = torch.randn(2, 8, 11, 9, dtype=torch.float64)
    x1 = x + F.conv2d(x.mean((2, 3), keepdim=True), m.pre_context.weight, m.pre_context.bias)
    avg = F.avg_pool2d(F.pad(x1, (2, 2, 2, 2), mode="reflect"), 5, 1)
    s = F.conv2d(avg, m.switch.weight, m.switch.bias, stride)
    w = _aws(m.weight, m.weight_gamma, m.weight_beta)
    small = F.conv2d(x1, w, m.bias, stride, dilation, dilation)
    large = F.conv2d(x1, w + m.weight_diff, m.bias, stride, 3 * dilation, 3 * dilation)
    y = s * small + (1 - s) * large
    y = y + F.conv2d(y.mean((2, 3), keepdim=True), m.post_context.weight, m.post_context.bias)
    torch.testing.assert_close(m(x), y)


def _deform_reference(x, offset, weight, bias, stride, pad, dil):
    """Sample every tap at p0 + tap * dil + offset with zero-padded bilinear interpolation, point by point."""
    n, c, h, w = x.shape
    c_out, _, k, _ = weight.shape
    ho, wo = offset.shape[-2:]
    xp = F.pad(x, (1, 1, 1, 1))  # a zero ring: corners outside read 0

    def at(b, yy, xx):
        yi, xi = int(yy) + 1, int(xx) + 1
        if 0 <= yi < h + 2 and 0 <= xi < w + 2:
            return xp[b, :, yi, xi]
        return torch.zeros(c, dtype=x.dtype)

    out = torch.zeros(n, c_out, ho, wo, dtype=x.dtype)
    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                col = []
                for u in range(k):
                    for v in range(k):
                        t = u * k + v
                        py = i * stride - pad + u * dil + offset[b, 2 * t, i, j]
                        px = j * stride - pad + v * dil + offset[b, 2 * t + 1, i, j]
                        y0, x0 = torch.floor(py), torch.floor(px)
                        ly, lx = py - y0, px - x0
                        val = (
                            (1 - ly) * (1 - lx) * at(b, y0, x0)
                            + (1 - ly) * lx * at(b, y0, x0 + 1)
                            + ly * (1 - lx) * at(b, y0 + 1, x0)
                            + ly * lx * at(b, y0 + 1, x0 + 1)
                        )
                        col.append(val)
                col = torch.stack(col, 1)  # (C, K*K)
                out[b, :, i, j] = (weight.flatten(2) * col).sum((1, 2)) + (0 if bias is None else bias)
    return out


def test_deformable_branches_sample_bilinearly_with_zeros_outside():
    m = _randomise(cvattn.create("sac", in_channels=4, out_channels=3, padding=1, use_deform=True)).double()
    with torch.no_grad():
        m.offset_s.weight.mul_(5)  # offsets of a few pixels, some reaching outside the map
        m.offset_l.weight.mul_(5)
    x = torch.randn(1, 4, 6, 5, dtype=torch.float64)
    x1 = x + m.pre_context(x.mean((2, 3), keepdim=True))
    avg = F.avg_pool2d(F.pad(x1, (2, 2, 2, 2), mode="reflect"), 5, 1)
    s = m.switch(avg)
    w = _aws(m.weight, m.weight_gamma, m.weight_beta)
    small = _deform_reference(x1, m.offset_s(avg), w, m.bias, 1, 1, 1)
    large = _deform_reference(x1, m.offset_l(avg), w + m.weight_diff, m.bias, 1, 3, 3)
    y = s * small + (1 - s) * large
    y = y + m.post_context(y.mean((2, 3), keepdim=True))
    torch.testing.assert_close(m(x), y)


def test_official_initialisation_is_the_standardised_convolution():
    torch.manual_seed(0)
    for deform in (False, True):
        m = cvattn.create(
            "sac", in_channels=8, out_channels=8, padding=1, use_deform=deform, official_init=True
        )
        m = m.double()
        x = torch.randn(2, 8, 7, 7, dtype=torch.float64)
        want = F.conv2d(x, _aws(m.weight, m.weight_gamma, m.weight_beta), m.bias, padding=1)
        torch.testing.assert_close(m(x), want)


def test_plain_conv_checkpoint_is_reproduced():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(8, 8, 3, padding=1).double()
    m = cvattn.create(
        "sac", in_channels=8, out_channels=8, padding=1, use_deform=False, official_init=True
    ).double()
    state = {k: v for k, v in m.state_dict().items() if not k.startswith("weight_")}
    state.update(conv.state_dict())
    m.load_state_dict(state, strict=False)
    x = torch.randn(2, 8, 6, 6, dtype=torch.float64)
    torch.testing.assert_close(m(x), conv(x))
