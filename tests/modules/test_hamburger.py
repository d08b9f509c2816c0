import torch
import torch.nn.functional as F

import cvattn


def _count(c, d):
    return (c * d + d) + (d * d + 2 * d) + d * c  # lower bread (bias), cheese conv + BN, upper bread


def test_parameter_count_closed_form():
    for c, d in [(64, 512), (32, 48)]:
        m = cvattn.create("hamburger", channels=c, md_channels=d)
        assert sum(p.numel() for p in m.parameters()) == _count(c, d)


def _reference(m, x, seed, steps):
    """Hamburger in eval mode from the paper's NMF updates; the K iterations on a detached copy (one-step grad)."""
    n, c, h, w = x.shape
    d, r, s = m.md_channels, m.rank, m.num_splits
    lw = m.lower_bread[0]
    z = torch.relu(torch.einsum("dc,nchw->ndhw", lw.weight[:, :, 0, 0], x) + lw.bias.view(1, -1, 1, 1))
    X = z.reshape(n * s, d // s, h * w)
    g = torch.Generator().manual_seed(seed)
    B = torch.rand((s, d // s, r), generator=g)  # one fixed basis matrix per split, the same for every sample
    B = (B / B.norm(dim=1, keepdim=True).clamp_min(1e-12)).to(x.dtype).repeat(n, 1, 1)
    Xd = X.detach()
    logits = Xd.transpose(1, 2) @ B
    C = torch.exp(logits) / torch.exp(logits).sum(-1, keepdim=True)
    for _ in range(steps):
        C = C * (Xd.transpose(1, 2) @ B) / (C @ (B.transpose(1, 2) @ B) + 1e-6)
        B = B * (Xd @ C) / (B @ (C.transpose(1, 2) @ C) + 1e-6)
    C = C * (X.transpose(1, 2) @ B) / (C @ (B.transpose(1, 2) @ B) + 1e-6)
    y = (B @ C.transpose(1, 2)).reshape(n, d, h, w)
    cv, bn = m.cheese[0], m.cheese[1]
    y = torch.einsum("od,ndhw->nohw", cv.weight[:, :, 0, 0], y)
    y = (y - bn.running_mean.view(1, -1, 1, 1)) / torch.sqrt(bn.running_var.view(1, -1, 1, 1) + bn.eps)
    y = torch.relu(y * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1))
    y = torch.einsum("cd,ndhw->nchw", m.upper_bread.weight[:, :, 0, 0], y)
    return torch.relu(x + y)


def test_matches_reference_values_and_one_step_gradient():
    torch.manual_seed(0)
    for s, r in [(1, 4), (2, 3)]:
        m = (
            cvattn.create("hamburger", channels=6, md_channels=8, rank=r, num_splits=s, eval_seed=3)
            .double()
            .eval()
        )
        with torch.no_grad():
            m.cheese[1].running_mean.normal_(0, 0.2)
            m.cheese[1].running_var.uniform_(0.5, 1.5)
        x = torch.randn(2, 6, 5, 7, dtype=torch.float64, requires_grad=True)
        ours, ref = m(x), _reference(m, x, seed=3, steps=6)
        torch.testing.assert_close(ours, ref)
        g = torch.randn_like(ours)
        (g_ours,) = torch.autograd.grad(ours, x, g)
        (g_ref,) = torch.autograd.grad(ref, x, g)
        torch.testing.assert_close(g_ours, g_ref)


def test_eval_bases_are_seeded_and_train_bases_random():
    m = cvattn.create("hamburger", channels=8, md_channels=16, rank=4).double()
    x = torch.randn(1, 8, 6, 5, dtype=torch.float64)
    m.eval()
    with torch.no_grad():
        assert torch.equal(m(x), m(x))
        m.eval_seed = 1
        other = m(x)
        m.eval_seed = 0
        assert not torch.allclose(other, m(x))
        m.train()
        torch.manual_seed(5)
        a = m(x)
        torch.manual_seed(5)
        assert torch.equal(a, m(x))  # the global generator
        assert not torch.allclose(a, m(x))


def test_nmf_keeps_factors_non_negative():
    m = cvattn.create("hamburger", channels=8, md_channels=16, rank=4).eval()
    z = m.lower_bread(torch.randn(2, 8, 5, 6))
    assert (m.ham(z) >= 0).all()
    assert F.relu(z).equal(z)


def test_eval_output_of_a_sample_does_not_depend_on_its_batch():
    torch.manual_seed(0)
    m = cvattn.create("hamburger", channels=8, md_channels=16, rank=4, num_splits=2).double().eval()
    x = torch.randn(3, 8, 5, 6, dtype=torch.float64)
    with torch.no_grad():
        whole = m(x)
        for i in range(3):
            torch.testing.assert_close(whole[i : i + 1], m(x[i : i + 1]))
    assert "eval_bases" not in m.state_dict()  # redrawn from the seed, not saved
