import torch

import cvattn


def test_parameter_count_closed_form():
    for cin, cout, k in [(64, 64, 7), (32, 128, 3)]:
        m = cvattn.create("sasa", in_channels=cin, out_channels=cout, kernel_size=k)
        assert sum(p.numel() for p in m.parameters()) == 3 * cin * cout + cout * k


def test_matches_loop_reference():
    torch.manual_seed(0)
    k, g, cout = 3, 2, 8
    m = cvattn.create("sasa", in_channels=6, out_channels=cout, kernel_size=k, groups=g).double().eval()
    x = torch.randn(2, 6, 4, 5, dtype=torch.float64)
    q = torch.einsum("oc,nchw->nohw", m.query.weight[:, :, 0, 0], x)
    key = torch.einsum("oc,nchw->nohw", m.key.weight[:, :, 0, 0], x)
    val = torch.einsum("oc,nchw->nohw", m.value.weight[:, :, 0, 0], x)
    d = cout // g
    out = torch.zeros(2, cout, 4, 5, dtype=torch.float64)
    for i in range(4):
        for j in range(5):
            for h in range(g):
                sl = slice(h * d, (h + 1) * d)
                logits, values = [], []
                for a in range(i - 1, i + 2):
                    for b in range(j - 1, j + 2):
                        if not (0 <= a < 4 and 0 <= b < 5):
                            continue
                        r = torch.cat([m.rel_h[:, a - i + 1], m.rel_w[:, b - j + 1]])[sl]
                        logits.append((q[:, sl, i, j] * (key[:, sl, a, b] + r)).sum(1))
                        values.append(val[:, sl, a, b])
                w = torch.softmax(torch.stack(logits, 1), 1)
                assert torch.allclose(w.sum(1), torch.ones(2, dtype=torch.float64))
                out[:, sl, i, j] = torch.einsum("nm,nmd->nd", w, torch.stack(values, 1))
    torch.testing.assert_close(m(x), out)


def test_stride_average_pools():
    m = cvattn.create("sasa", in_channels=16, out_channels=16, stride=2, kernel_size=3).eval()
    x = torch.randn(1, 16, 8, 8)
    m1 = cvattn.create("sasa", in_channels=16, out_channels=16, kernel_size=3).eval()
    m1.load_state_dict(m.state_dict())
    torch.testing.assert_close(m(x), torch.nn.functional.avg_pool2d(m1(x), 2))
