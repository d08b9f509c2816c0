import pytest
import torch
import torch.nn.functional as F

import cvattn


def _n(m):
    return sum(p.numel() for p in m.parameters())


def test_parameter_count_closed_form():
    for c, k, pre, trunk, post, nl in [(64, 3, 1, 2, 2, True), (16, 5, 0, 1, 3, False)]:
        m = cvattn.create(
            "rnan",
            channels=c,
            kernel_size=k,
            pre_blocks=pre,
            trunk_blocks=trunk,
            post_blocks=post,
            non_local=nl,
        )
        res_block = 2 * (k * k * c * c + c)
        ci = c // 2
        non_local = (3 * (c * ci + ci) + (ci * c + c)) if nl else 0  # g, theta, phi, W
        # mask branch: RB, 3x3 stride-2 conv, 2 RB, 6x6 transposed conv, RB, 1x1 conv
        mask = non_local + 4 * res_block + (9 * c * c + c) + (36 * c * c + c) + (c * c + c)
        assert _n(m) == (pre + trunk + post) * res_block + mask


def _conv1x1(x, conv):
    return torch.einsum("oc,nchw->nohw", conv.weight[:, :, 0, 0], x) + conv.bias[None, :, None, None]


@pytest.mark.parametrize("softmax_over", ["query", "key"])
def test_non_local_block_matches_reference(softmax_over):
    m = cvattn.create("rnan", channels=8, softmax_over=softmax_over).double().eval()
    nl = m.mask.non_local
    x = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    theta, phi, g = (_conv1x1(x, conv).flatten(2) for conv in (nl.theta, nl.phi, nl.g))  # (N, 4, HW)
    f = torch.einsum("nci,ncj->nij", theta, phi)  # no scaling
    dim = 1 if softmax_over == "query" else 2
    attn = torch.exp(f - f.amax(dim, keepdim=True))
    attn = attn / attn.sum(dim, keepdim=True)
    # official code: each key's weights over all queries sum to 1; paper: each query's weights over all keys
    torch.testing.assert_close(attn.sum(dim), torch.ones(2, 35, dtype=torch.float64))
    y = torch.einsum("nij,ncj->nci", attn, g).reshape(2, 4, 5, 7)
    torch.testing.assert_close(nl(x), _conv1x1(y, nl.W) + x)


def _res_block(x, rb):
    return x + rb.conv2(F.relu(rb.conv1(x)))


@pytest.mark.parametrize("size", [(16, 16), (13, 17)])
def test_block_is_residual_attention_with_mask_in_unit_interval(size):
    m = cvattn.create("rnan", channels=8).double().eval()
    x = torch.randn(2, 8, *size, dtype=torch.float64)
    x1 = _res_block(x, m.pre[0])
    t = _res_block(_res_block(x1, m.trunk[0]), m.trunk[1])
    mb = m.mask
    x_rb1 = _res_block(mb.non_local(x1), mb.rb1)
    up = mb.up(_res_block(_res_block(mb.down(x_rb1), mb.rb2[0]), mb.rb2[1]))
    h, w = size
    assert up.shape[-2:] == (2 * ((h + 1) // 2), 2 * ((w + 1) // 2))  # one larger for odd sizes
    mask = torch.sigmoid(_conv1x1(_res_block(x_rb1 + up[:, :, :h, :w], mb.rb3), mb.conv1x1))
    assert ((mask > 0) & (mask < 1)).all()
    ref = _res_block(_res_block(x1 + t * mask, m.post[0]), m.post[1])
    torch.testing.assert_close(m(x), ref)


def test_zero_init_non_local_starts_as_identity():
    m = cvattn.create("rnan", channels=8, zero_init=True).eval()
    x = torch.randn(1, 8, 6, 6)
    torch.testing.assert_close(m.mask.non_local(x), x)


def test_bad_softmax_over_is_refused():
    with pytest.raises(ValueError, match="softmax_over"):
        cvattn.create("rnan", channels=8, softmax_over="rows")
