import torch

import cvattn


def test_parameter_count_closed_form():
    for c, r in [(64, 4), (256, 8)]:
        m = cvattn.create("dianet", channels=c, reduction=r)
        h = c // r
        small_cell = c * h + h + h * 4 * c + 4 * c  # Linear(C, C/r) -> ReLU -> Linear(C/r, 4C)
        assert sum(p.numel() for p in m.parameters()) == 2 * small_cell  # W_ih and W_hh


def _mlp(seq, v):
    l1, l2 = seq[0], seq[2]
    return l2.weight @ (l1.weight @ v + l1.bias).clamp(min=0) + l2.bias


def test_shared_unit_carries_the_state_across_blocks():
    torch.manual_seed(0)
    c = 8
    dia = cvattn.create("dianet", channels=c, reduction=4).double()
    xs = [torch.randn(2, c, 5 + t, 7, dtype=torch.float64) for t in range(4)]
    outs, state = [], None
    for x in xs:  # four blocks of a stage share the unit
        y, state = dia(x, state)
        outs.append((y, state))
    for n in range(2):
        h = torch.zeros(c, dtype=torch.float64)
        cell = torch.zeros(c, dtype=torch.float64)
        for x, (y, st) in zip(xs, outs, strict=True):
            m = x[n].mean((1, 2))
            gates = _mlp(dia.w_ih, m) + _mlp(dia.w_hh, h)
            i, f, g, o = gates[:c], gates[c : 2 * c], gates[2 * c : 3 * c], gates[3 * c :]
            cell = torch.sigmoid(f) * cell + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.sigmoid(cell)  # modified LSTM: sigmoid instead of tanh
            torch.testing.assert_close(y[n], x[n] * h[:, None, None])
            torch.testing.assert_close(st[n, 0], h)
            torch.testing.assert_close(st[n, 1], cell)


def test_no_state_is_the_zero_state_and_state_changes_the_gate():
    torch.manual_seed(0)
    dia = cvattn.create("dianet", channels=16).double()
    x = torch.randn(2, 16, 6, 6, dtype=torch.float64)
    y0, s0 = dia(x)
    y1, s1 = dia(x, torch.zeros(2, 2, 16, dtype=torch.float64))
    torch.testing.assert_close(y0, y1)
    torch.testing.assert_close(s0, s1)
    y2, _ = dia(x, s0)  # same input, carried state: a different gate
    assert not torch.allclose(y2, y0)
    gate = s0[:, 0]
    assert ((gate > 0) & (gate < 1)).all()


def test_wrong_state_shape_raises():
    dia = cvattn.create("dianet", channels=16)
    x = torch.randn(2, 16, 6, 6)
    try:
        dia(x, torch.zeros(2, 2, 15))
    except ValueError as e:
        assert "expected" in str(e)
    else:
        raise AssertionError("no ValueError for a state of the wrong width")
