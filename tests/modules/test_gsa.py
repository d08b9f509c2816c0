import torch

import cvattn


def test_parameter_count_closed_form():
    for cin, cout, nh, length in [(64, 64, 8, 32), (32, 128, 4, 7)]:
        m = cvattn.create("gsa", in_channels=cin, out_channels=cout, num_heads=nh, rel_length=length)
        dkh = cout // nh
        expected = cin * 3 * cout + 2 * (2 * length - 1) * dkh + 2 * dkh
        assert sum(p.numel() for p in m.parameters()) == expected


def test_matches_loop_reference():
    torch.manual_seed(0)
    m = (
        cvattn.create("gsa", in_channels=4, out_channels=4, key_channels=6, num_heads=2, rel_length=3)
        .double()
        .eval()
    )
    m.norm.running_mean.uniform_(-1, 1)
    m.norm.running_var.uniform_(0.5, 2)
    x = torch.randn(1, 4, 4, 5, dtype=torch.float64)
    qkv = torch.einsum("oc,nchw->nohw", m.qkv.weight[:, :, 0, 0], x)[0]
    h, w, dkh, dvh = 4, 5, 3, 2
    out = torch.zeros(4, h, w, dtype=torch.float64)
    bn = m.norm
    for head in range(2):
        q = qkv[head * dkh : (head + 1) * dkh]
        k = qkv[6 + head * dkh : 6 + (head + 1) * dkh]
        v = qkv[12 + head * dvh : 12 + (head + 1) * dvh]
        rho = torch.exp(k.flatten(1)) / torch.exp(k.flatten(1)).sum(1, keepdim=True)
        f_c = torch.einsum("dm,em,dp->ep", rho, v.flatten(1), q.flatten(1)).reshape(dvh, h, w)
        y = torch.zeros(dvh, h, w, dtype=torch.float64)
        for a in range(h):
            for b in range(w):
                for i in range(h):
                    if abs(i - a) < 3:
                        y[:, a, b] += (q[:, a, b] @ m.rel_col[i - a + 2]) * v[:, i, b]
        y = (y - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var[:, None, None] + bn.eps)
        y = y * bn.weight[:, None, None] + bn.bias[:, None, None]
        f_p = torch.zeros(dvh, h, w, dtype=torch.float64)
        for a in range(h):
            for b in range(w):
                for j in range(w):
                    if abs(j - b) < 3:
                        f_p[:, a, b] += (q[:, a, b] @ m.rel_row[j - b + 2]) * y[:, a, j]
        out[head * dvh : (head + 1) * dvh] = f_c + f_p
    torch.testing.assert_close(m(x)[0], out)
