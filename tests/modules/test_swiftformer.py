import torch

import cvattn


def _count(c, h):
    d = c * h
    return 2 * (c * d + d) + d + (d * d + d) + (d * c + c)  # W_q, W_k, w_a, proj, final


def test_parameter_count_closed_form():
    for c, h in [(64, 1), (48, 2)]:
        m = cvattn.create("swiftformer", channels=c, num_heads=h)
        assert sum(p.numel() for p in m.parameters()) == _count(c, h)


def _l2(v, dim):
    return v / torch.sqrt((v * v).sum(dim, keepdim=True)).clamp_min(1e-12)


def _reference(m, x):
    n, c, hh, ww = x.shape
    t = x.reshape(n, c, hh * ww).transpose(1, 2)  # pixel i*W+j
    q = _l2(torch.einsum("nlc,dc->nld", t, m.to_query.weight) + m.to_query.bias, -1)
    k = _l2(torch.einsum("nlc,dc->nld", t, m.to_key.weight) + m.to_key.bias, -1)
    alpha = _l2(torch.einsum("nld,d->nl", q, m.w_g[:, 0]) / c**0.5, 1)  # over the tokens
    g = torch.einsum("nl,nld->nd", alpha, q)
    y = torch.einsum("nld,ed->nle", g[:, None] * k, m.proj.weight) + m.proj.bias + q
    y = torch.einsum("nld,cd->nlc", y, m.final.weight) + m.final.bias
    return y.transpose(1, 2).reshape(n, c, hh, ww)


def test_matches_reference():
    torch.manual_seed(0)
    for h in (1, 2):
        m = cvattn.create("swiftformer", channels=12, num_heads=h).double().eval()
        x = torch.randn(2, 12, 5, 9, dtype=torch.float64)
        torch.testing.assert_close(m(x), _reference(m, x))


def test_scores_are_normalised_over_tokens():
    # alpha is L2-normalised over the tokens, so rescaling w_a by a positive factor changes nothing
    torch.manual_seed(1)
    m = cvattn.create("swiftformer", channels=8).double().eval()
    x = torch.randn(1, 8, 4, 6, dtype=torch.float64)
    y = m(x)
    with torch.no_grad():
        m.w_g.mul_(7.5)
    torch.testing.assert_close(m(x), y)
    with torch.no_grad():  # ... and the pixels interact only through g: shuffling them shuffles the output
        perm = torch.randperm(24)
        torch.testing.assert_close(
            m(x.flatten(2)[..., perm].reshape_as(x)), y.flatten(2)[..., perm].reshape_as(y)
        )
