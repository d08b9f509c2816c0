import torch
import torch.nn.functional as F

import cvattn


def test_parameter_count_closed_form():
    for c, m in [(64, 2), (256, 4)]:
        st = cvattn.create("fpt-self", channels=c, num_mixtures=m)
        assert sum(p.numel() for p in st.parameters()) == (c * c + c) * 2 + m * c + c * c + 2 * c
        gt = cvattn.create("fpt-grounding", channels=c)
        i = c // 2
        assert sum(p.numel() for p in gt.parameters()) == 3 * (c * i + i) + i * c + c + 2 * c
        rt = cvattn.create("fpt-rendering", channels=c)
        assert sum(p.numel() for p in rt.parameters()) == c * c + 9 * c * c + 9 * c * c + 3 * 2 * c


def _bn(t, bn):
    shape = (1, -1) + (1,) * (t.dim() - 2)
    t = (t - bn.running_mean.view(shape)) / torch.sqrt(bn.running_var.view(shape) + bn.eps)
    return t * bn.weight.view(shape) + bn.bias.view(shape)


def _randomise(m):
    for bn in [mod for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]:
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)


def test_self_transformer_mixture_of_softmaxes():
    torch.manual_seed(0)
    m = cvattn.create("fpt-self", channels=8, num_mixtures=2).double().eval()
    _randomise(m)
    x = torch.randn(2, 8, 6, 5, dtype=torch.float64)
    xp = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    q = F.conv2d(x, m.conv_qk.weight, m.conv_qk.bias).flatten(2)  # (N, 8, 30)
    k = F.conv2d(xp, m.conv_qk.weight, m.conv_qk.bias).flatten(2)
    v = F.conv2d(xp, m.conv_v.weight, m.conv_v.bias).flatten(2)
    pi = torch.softmax(m.mixture @ q.mean(2, keepdim=True), 1)[..., 0]  # (N, 2)
    attn = sum(
        pi[:, i, None, None]
        * torch.softmax(
            torch.einsum("ndq,ndk->nqk", q[:, 4 * i : 4 * i + 4], k[:, 4 * i : 4 * i + 4]) / 8**0.5, -1
        )
        for i in range(2)
    )
    torch.testing.assert_close(attn.sum(-1), torch.ones(2, 30, dtype=torch.float64))
    out = torch.einsum("nqk,ndk->ndq", attn, v).reshape(2, 8, 6, 5)
    expected = _bn(F.conv2d(out, m.conv_out.weight), m.norm) + x
    torch.testing.assert_close(m(x), expected)


def test_grounding_transformer_both_modes():
    torch.manual_seed(1)
    x, y = torch.randn(2, 8, 6, 4, dtype=torch.float64), torch.randn(2, 8, 3, 2, dtype=torch.float64)
    for mode in ("dot", "euclidean"):
        m = cvattn.create("fpt-grounding", channels=8, mode=mode).double().eval()
        _randomise(m)
        q = F.conv2d(x, m.theta.weight, m.theta.bias).flatten(2)
        k = F.conv2d(y, m.phi.weight, m.phi.bias).flatten(2)
        v = F.conv2d(y, m.g.weight, m.g.bias).flatten(2)
        if mode == "dot":
            s = torch.einsum("ncq,nck->nqk", q, k) / 6
        else:
            dist = ((q[:, :, :, None] - k[:, :, None, :]) ** 2).sum(1)
            s = torch.softmax(-dist, -1)
        out = torch.einsum("nqk,nck->ncq", s, v).reshape(2, 4, 6, 4)
        expected = _bn(F.conv2d(out, m.W_z.weight, m.W_z.bias), m.norm)
        torch.testing.assert_close(m(x, y), expected)


def test_rendering_transformer():
    torch.manual_seed(2)
    m = cvattn.create("fpt-rendering", channels=6, fine_channels=4).double().eval()
    _randomise(m)
    x, y = torch.randn(2, 6, 4, 5, dtype=torch.float64), torch.randn(2, 4, 8, 9, dtype=torch.float64)
    w = F.relu(_bn(torch.einsum("oc,nc->no", m.conv1x1.weight[:, :, 0, 0], y.mean((2, 3))), m.bn_weight))
    q_att = _bn(F.conv2d(x, m.conv3x3.weight, padding=1), m.bn_query) * w[:, :, None, None]
    v = _bn(F.conv2d(y, m.str_conv3x3.weight, stride=2, padding=1), m.bn_value)
    torch.testing.assert_close(m(x, y), F.relu(q_att + v))
