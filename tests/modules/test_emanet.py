import torch
from torch import fx

import cvattn
from cvattn.attention.emanet import e_step, m_step


def test_parameter_count_closed_form():
    for c, k, t in [(64, 64, 3), (32, 16, 2)]:
        m = cvattn.create("emanet", channels=c, num_bases=k, num_stages=t)
        # conv_in C*C + C (bias), conv_out C*C (no bias), BatchNorm 2C; the bases are a buffer
        assert sum(p.numel() for p in m.parameters()) == 2 * c * c + 3 * c
        assert m.mu.shape == (1, c, k) and not m.mu.requires_grad


def test_initial_bases_are_unit_columns():
    m = cvattn.create("emanet", channels=32, num_bases=8)
    torch.testing.assert_close(m.mu.norm(dim=1), torch.ones(1, 8), atol=1e-5, rtol=0)


def _hand_em(x1, mu0, stages):
    """EM by hand in float64: x1 (N, C, L) pixels, mu0 (C, K) bases -> per-stage (z, mu)."""
    n, c, length = x1.shape
    out = []
    mu = mu0.unsqueeze(0).repeat(n, 1, 1)
    for _ in range(stages):
        logits = torch.einsum("ncl,nck->nlk", x1, mu)
        e = torch.exp(logits - logits.max(dim=2, keepdim=True).values)
        z = e / e.sum(dim=2, keepdim=True)  # E step: softmax over the bases
        weight = z.sum(dim=1)  # (N, K) total responsibility of each basis
        mu = torch.einsum("nlk,ncl->nck", z, x1) / (1e-6 + weight[:, None, :])  # M step: weighted mean
        mu = mu / (1e-6 + torch.sqrt((mu * mu).sum(dim=1, keepdim=True)))
        out.append((z, mu))
    return out


def test_em_steps_and_output_match_hand_reference():
    torch.manual_seed(0)
    m = cvattn.create("emanet", channels=12, num_bases=5, num_stages=3).double().eval()
    bn = m.conv_out.bn
    bn.running_mean.uniform_(-0.5, 0.5)
    bn.running_var.uniform_(0.5, 2.0)
    x = torch.randn(2, 12, 5, 7, dtype=torch.float64)
    x1 = torch.einsum("oc,nchw->nohw", m.conv_in.weight[:, :, 0, 0], x) + m.conv_in.bias[:, None, None]
    x1 = x1.reshape(2, 12, 35)
    stages = _hand_em(x1, m.mu[0], 3)
    # the module's E and M steps, stage by stage
    mu = m.mu
    for z_ref, mu_ref in stages:
        z = e_step(x1, mu)
        torch.testing.assert_close(z, z_ref)
        torch.testing.assert_close(z.sum(-1), torch.ones(2, 35, dtype=torch.float64))
        mu = m_step(x1, z)
        torch.testing.assert_close(mu, mu_ref)
    # reconstruction, ReLU, conv + BN (eval statistics), residual, ReLU
    z, mu = stages[-1]
    x_tilde = torch.relu(torch.einsum("nck,nlk->ncl", mu, z)).reshape(2, 12, 5, 7)
    y = torch.einsum("oc,nchw->nohw", m.conv_out.conv.weight[:, :, 0, 0], x_tilde)
    y = (y - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
    y = y * bn.weight[:, None, None] + bn.bias[:, None, None]
    torch.testing.assert_close(m(x), torch.relu(y + x))


def test_bases_moving_average_in_training_only():
    torch.manual_seed(1)
    m = cvattn.create("emanet", channels=8, num_bases=4, momentum=0.9).double()
    x = torch.randn(3, 8, 6, 5, dtype=torch.float64)
    mu0 = m.mu.clone()
    m.eval()
    a, b = m(x), m(x)
    assert torch.equal(a, b) and torch.equal(m.mu, mu0)
    m.train()
    with torch.no_grad():
        x1 = m.conv_in(x).flatten(2)
    _, mu_t = _hand_em(x1, mu0[0], 3)[-1]
    m(x)
    torch.testing.assert_close(m.mu, 0.9 * mu0 + 0.1 * mu_t.mean(0, keepdim=True))
    # a train-mode trace updates the buffer the same way
    traced = fx.symbolic_trace(m)
    before = m.mu.clone()
    traced(x)
    _, mu_t = _hand_em(x1, before[0], 3)[-1]
    torch.testing.assert_close(m.mu, 0.9 * before + 0.1 * mu_t.mean(0, keepdim=True))


def test_detach_em_is_the_official_stop_gradient():
    torch.manual_seed(2)
    x = torch.randn(2, 16, 7, 6)
    default = cvattn.create("emanet", channels=16, num_bases=8).eval()
    official = cvattn.create("emanet", channels=16, num_bases=8, detach_em=True).eval()
    official.load_state_dict(default.state_dict())
    torch.testing.assert_close(official(x), default(x))
    for m, reaches in [(default, True), (official, False)]:
        m(x).square().mean().backward()
        grad = m.conv_in.weight.grad
        assert (grad is not None and grad.abs().sum() > 0) == reaches
