import torch

import cvattn


def _count(c, p):
    i = c // 2
    return (
        (c * c + c + 2 * c)  # W1 conv + BN
        + (c * p + p + 2 * p)  # part maps conv + BN
        + (c * i + i)  # g
        + (2 * i + 1 + 2)  # relation conv + BN(1)
        + (2 * i * i + i + 2 * i)  # aggregation conv + BN
        + (2 * i * c + c + 2 * c)  # W2 conv + BN
    )


def test_parameter_count_closed_form():
    for c, p in [(64, 4), (512, 6)]:
        m = cvattn.create("iaunet", channels=c, num_parts=p)
        assert sum(q.numel() for q in m.parameters()) == _count(c, p)


def _bn(t, bn):
    shape = (1, -1) + (1,) * (t.dim() - 2)
    t = (t - bn.running_mean.view(shape)) / torch.sqrt(bn.running_var.view(shape) + bn.eps)
    return t * bn.weight.view(shape) + bn.bias.view(shape)


def _lin(conv, t):  # 1x1 conv on (N, Cin, ...) by einsum
    out = torch.einsum("oc,nc...->no...", conv.weight[:, :, 0, 0], t)
    return out + conv.bias.view((1, -1) + (1,) * (t.dim() - 2))


def test_matches_loop_reference():
    torch.manual_seed(0)
    m = cvattn.create("iaunet", channels=8, num_parts=3).double().eval()
    for bn in [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]:
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
    x = torch.randn(2, 8, 3, 4, dtype=torch.float64)
    f = x.flatten(2)
    att = torch.softmax(torch.einsum("ncm,ndm->ncd", f, f), -1)
    torch.testing.assert_close(att.sum(-1), torch.ones(2, 8, dtype=torch.float64))
    z = x + _bn(_lin(m.W1.conv, torch.einsum("ncd,ndm->ncm", att, f).reshape(x.shape)), m.W1.bn)
    a = torch.sigmoid(_bn(_lin(m.part_attn.conv, z), m.part_attn.bn)).flatten(2)
    parts = torch.einsum("npm,ncm->ncp", a, z.flatten(2))
    u = z.flatten(2).mean(2)
    xp, ug = _lin(m.g, parts), _lin(m.g, u)  # (N, 4, P), (N, 4)
    out = torch.zeros(2, 8, dtype=torch.float64)
    for b in range(2):
        s_parts = []
        for i in range(3):
            logits = []
            for j in range(3):
                feat = torch.cat([(xp[b, :, i] - xp[b, :, j]).abs(), ug[b]])[None]
                logits.append(_bn(_lin(m.relation.conv, feat), m.relation.bn)[0, 0])
            logits = torch.stack(logits)
            logits[i] = float("-inf")
            e = torch.softmax(logits, 0)
            assert e[i] == 0 and torch.isclose(e.sum(), torch.tensor(1.0, dtype=torch.float64))
            nb = (xp[b] * e).sum(1)
            s_parts.append(
                torch.relu(_bn(_lin(m.aggregate.conv, torch.cat([xp[b, :, i], nb])[None]), m.aggregate.bn))[0]
            )
        upd = torch.cat([torch.stack(s_parts).mean(0), ug[b]])
        out[b] = _bn(_lin(m.W2, upd[None]), m.W2_norm)[0]
    torch.testing.assert_close(m(x), z + out[:, :, None, None])


def test_zero_init_is_identity():
    m = cvattn.create("iaunet", channels=16, zero_init_last=True).eval()
    x = torch.randn(2, 16, 5, 3)
    torch.testing.assert_close(m(x), x)
