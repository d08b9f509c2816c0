import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, size, r in [(64, 14, 8), (32, (8, 6), 4)]:
        m = cvattn.create("c3net", channels=c, spatial_size=size, reduction=r)
        a = size * size if isinstance(size, int) else size[0] * size[1]
        mlp = a * (a // r) + a // r + (a // r) * a + a  # A -> A/r -> A, with biases
        assert sum(p.numel() for p in m.parameters()) == 2 * mlp  # encoder and decoder


def _mlp(seq, v):
    l1, l2 = seq[0], seq[2]
    return l2.weight @ (l1.weight @ v + l1.bias).clamp(min=0) + l2.bias


def test_message_passing_recomputed_by_hand():
    torch.manual_seed(0)
    c, hh, ww = 10, 4, 6
    m = cvattn.create("c3net", channels=c, spatial_size=(hh, ww), reduction=4).double()
    x = torch.randn(2, c, hh, ww, dtype=torch.float64)
    out = m(x)
    for n in range(2):
        e = [_mlp(m.encoder, x[n, i].reshape(-1)) for i in range(c)]  # node embeddings
        mu = [v.mean() for v in e]
        for j in range(c):
            scores = torch.stack([-((mu[j] - mu[i]) ** 2) for i in range(c)])
            a = torch.exp(scores) / torch.exp(scores).sum()
            assert torch.isclose(a.sum(), torch.tensor(1.0, dtype=torch.float64))
            msg = sum(a[i] * e[i] for i in range(c))
            y = _mlp(m.decoder, msg).reshape(hh, ww)
            torch.testing.assert_close(out[n, j], (x[n, j] + y).clamp(min=0))


def test_other_input_size_is_resized_to_the_working_size_and_back():
    torch.manual_seed(0)
    m = cvattn.create("c3net", channels=8, spatial_size=6, reduction=4).double()
    x = torch.randn(2, 8, 13, 11, dtype=torch.float64)
    z = F.interpolate(x, size=(6, 6), mode="nearest")
    with torch.no_grad():
        e = m.encoder(z.reshape(2, 8, 36))
        mu = e.mean(2)
        a = torch.softmax(-((mu[:, :, None] - mu[:, None, :]) ** 2), dim=2)
        y = m.decoder(a @ e).reshape(2, 8, 6, 6)
        expected = (x + F.interpolate(y, size=(13, 11), mode="nearest")).clamp(min=0)
        torch.testing.assert_close(m(x), expected)


def test_channel_groups_communicate_separately():
    torch.manual_seed(0)
    m = cvattn.create("c3net", channels=12, spatial_size=4, reduction=2, groups=3).double()
    x = torch.randn(1, 12, 4, 4, dtype=torch.float64)
    x2 = x.clone()
    x2[:, 0] += 1.0  # change one channel of the first group
    out, out2 = m(x), m(x2)
    torch.testing.assert_close(out[:, 4:], out2[:, 4:])  # the other groups see no change
    assert not torch.allclose(out[:, 1:4], out2[:, 1:4])  # its own group does


def test_official_group_rule():
    assert cvattn.create("c3net", channels=512, spatial_size=2).groups == 1
    assert cvattn.create("c3net", channels=1024, spatial_size=2).groups == 2
    assert cvattn.create("c3net", channels=2048, spatial_size=2).groups == 4
