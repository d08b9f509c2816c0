import torch

import cvattn


def _count(c, s):
    # proj_in 1x1 conv with bias, M_k and M_v without bias, proj_out 1x1 conv, BatchNorm scale and shift
    return (c * c + c) + 2 * s * c + c * c + 2 * c


def test_parameter_count_closed_form():
    for c, s in [(64, 64), (48, 16)]:
        m = cvattn.create("external-attention", channels=c, memory_units=s)
        assert sum(p.numel() for p in m.parameters()) == _count(c, s)


def _reference(m, x):
    """The paper's equations written out: A = Norm(F M_k^T), F_out = A M_v, then conv-BN, residual, ReLU."""
    n, c, h, w = x.shape
    f = torch.einsum("oc,nchw->nhwo", m.proj_in.weight[:, :, 0, 0], x) + m.proj_in.bias
    f = f.reshape(n, h * w, c)
    logits = torch.einsum("nlc,sc->nls", f, m.memory_key.weight)
    e = torch.exp(logits - logits.max(dim=1, keepdim=True).values)
    a = e / e.sum(dim=1, keepdim=True)  # softmax over the positions
    a = a / (1e-9 + a.sum(dim=2, keepdim=True))  # l1 over the memory units
    out = torch.einsum("nls,cs->nlc", a, m.memory_value.weight)
    out = torch.einsum("oc,nlc->nlo", m.proj_out.weight[:, :, 0, 0], out)
    bn = m.norm
    out = (out - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    out = out.reshape(n, h, w, c).permute(0, 3, 1, 2)
    return torch.relu(out + x)


def test_matches_reference():
    torch.manual_seed(0)
    m = cvattn.create("external-attention", channels=12, memory_units=5).double().eval()
    with torch.no_grad():
        for p in m.parameters():
            p.normal_(0, 0.5)
        m.norm.running_mean.normal_(0, 0.2)
        m.norm.running_var.uniform_(0.5, 1.5)
    x = torch.randn(2, 12, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(m(x), _reference(m, x))


def test_double_normalisation_and_init():
    m = cvattn.create("external-attention", channels=8, memory_units=4)
    torch.testing.assert_close(m.memory_key.weight, m.memory_value.weight.t())
    assert m.memory_key.weight.data_ptr() != m.memory_value.weight.data_ptr()  # not tied
    x = torch.randn(1, 8, 3, 5)
    f = m.proj_in(x).flatten(2).transpose(1, 2)
    a = m.memory_key(f).softmax(1)
    a = a / (m.eps + a.sum(2, keepdim=True))
    torch.testing.assert_close(a.sum(2), torch.ones(1, 15))  # each position: weights over S sum to one
