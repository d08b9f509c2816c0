import torch
import torch.nn.functional as F

import cvattn


def _count(c, m, mask, branches):
    per_branch = (c * m + 2 * m) + (m * m + 2 * m) + m * mask  # reduce conv-BN; attention conv-BN-conv
    return branches * per_branch + branches * m * c + 2 * c  # projection conv-BN


def test_parameter_count_closed_form():
    for c, m, psa_type, mh, mw in [(64, 16, 2, 13, 17), (32, 8, 1, 5, 3)]:
        mod = cvattn.create("psanet", channels=c, mid_channels=m, psa_type=psa_type, mask_h=mh, mask_w=mw)
        branches = 2 if psa_type == 2 else 1
        assert sum(p.numel() for p in mod.parameters()) == _count(c, m, mh * mw, branches)


def _cbr(x, cba, act=True):
    y = F.conv2d(x, cba.conv.weight)
    bn = cba.bn
    y = (y - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    y = y * bn.weight[:, None, None] + bn.bias[:, None, None]
    return y.clamp_min(0) if act else y


def _branch(branch, x, size, mh, mw, distribute, softmax, norm):
    r = F.interpolate(_cbr(x, branch.reduce), size=size, mode="bilinear", align_corners=True)
    a = F.conv2d(_cbr(r, branch.attention[0]), branch.attention[1].weight)  # (N, mh*mw, H', W')
    n, c, h, w = r.shape
    z = torch.zeros_like(r)
    for hi in range(h):
        for wi in range(w):  # target i
            logits = torch.zeros(n, h, w, dtype=x.dtype)
            for hj in range(h):
                for wj in range(w):  # source j
                    if distribute:  # j's map, seen from centre j, at the offset of i
                        dh, dw, centre = hi - hj + mh // 2, wi - wj + mw // 2, (hj, wj)
                    else:  # i's map, seen from centre i, at the offset of j
                        dh, dw, centre = hj - hi + mh // 2, wj - wi + mw // 2, (hi, wi)
                    if 0 <= dh < mh and 0 <= dw < mw:
                        logits[:, hj, wj] = a[:, dh * mw + dw, centre[0], centre[1]]
            weights = logits.flatten(1)
            weights = torch.exp(weights) / torch.exp(weights).sum(1, keepdim=True) if softmax else weights
            z[:, :, hi, wi] = torch.einsum("nj,ncj->nc", weights, r.flatten(2)) / norm
    return z


def _reference(mod, x, softmax=True):
    height, width = x.shape[-2:]
    s = mod.shrink_factor
    size = ((height - 1) // s + 1, (width - 1) // s + 1)
    zs = [
        _branch(
            getattr(mod, d),
            x,
            size,
            mod.mask_h,
            mod.mask_w,
            d == "distribute",
            softmax,
            mod.normalization_factor,
        )
        for d in mod.directions
    ]
    out = _cbr(torch.cat(zs, 1), mod.proj)
    return F.interpolate(out, size=(height, width), mode="bilinear", align_corners=True)


def _random_stats(mod):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, buf in mod.named_buffers():
            if name.endswith("running_mean"):
                buf.copy_(torch.randn(buf.shape, generator=g, dtype=buf.dtype) * 0.2)
            elif name.endswith("running_var"):
                buf.copy_(torch.rand(buf.shape, generator=g, dtype=buf.dtype) + 0.5)


def test_matches_reference_bidirectional_full_and_local_window():
    torch.manual_seed(0)
    x = torch.randn(2, 8, 8, 11, dtype=torch.float64)  # shrunk to 4 x 6; (H - 1) % 2 != 0 as well
    for mh, mw in [(7, 11), (3, 5)]:  # the full 2H'-1 map, and a window smaller than the map
        mod = cvattn.create("psanet", channels=8, mid_channels=4, mask_h=mh, mask_w=mw).double().eval()
        _random_stats(mod)
        torch.testing.assert_close(mod(x), _reference(mod, x))


def test_matches_reference_single_branches_without_softmax():
    torch.manual_seed(1)
    x = torch.randn(1, 6, 5, 7, dtype=torch.float64)
    for psa_type in (0, 1):
        mod = cvattn.create(
            "psanet",
            channels=6,
            mid_channels=4,
            psa_type=psa_type,
            shrink_factor=1,
            mask_h=5,
            mask_w=3,
            normalization_factor=None,
            psa_softmax=False,
        )
        mod = mod.double().eval()
        _random_stats(mod)
        torch.testing.assert_close(mod(x), _reference(mod, x, softmax=False))


def test_window_limits_reach_but_softmax_keeps_zero_logits_outside():
    torch.manual_seed(2)
    x = torch.randn(1, 6, 7, 7, dtype=torch.float64)
    far = x.clone()
    far[:, :, 6, 6] += 3.0  # far outside the 3x3 window of position (0, 0)
    kw = dict(channels=6, mid_channels=4, psa_type=0, shrink_factor=1, mask_h=3, mask_w=3)
    plain = cvattn.create("psanet", psa_softmax=False, **kw).double().eval()
    assert torch.allclose(plain(x)[:, :, 0, 0], plain(far)[:, :, 0, 0])
    # with the softmax, positions outside the window still count with logit 0, as in the official operator
    soft = cvattn.create("psanet", **kw).double().eval()
    assert not torch.allclose(soft(x)[:, :, 0, 0], soft(far)[:, :, 0, 0])


def test_any_size_keeps_shape():
    mod = cvattn.create("psanet", channels=8, mid_channels=4, mask_h=5, mask_w=5).eval()
    for h, w in [(14, 14), (6, 9), (1, 1)]:
        assert mod(torch.randn(1, 8, h, w)).shape == (1, 8, h, w)
