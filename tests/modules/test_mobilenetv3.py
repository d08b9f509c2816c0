import torch

import cvattn


def _relu6(t):
    return torch.minimum(torch.maximum(t, torch.zeros_like(t)), torch.full_like(t, 6.0))


def test_no_parameters():
    for id in ("mobilenetv3-hard-swish", "mobilenetv3-hard-sigmoid"):
        for inplace in (False, True):
            assert sum(p.numel() for p in cvattn.create(id, inplace=inplace).parameters()) == 0


def test_formulas_relu6():
    x = torch.linspace(-6, 6, 241, dtype=torch.float64)
    torch.testing.assert_close(cvattn.create("mobilenetv3-hard-sigmoid")(x), _relu6(x + 3) / 6)
    torch.testing.assert_close(cvattn.create("mobilenetv3-hard-swish")(x), x * _relu6(x + 3) / 6)


def test_piecewise_shape():
    sig, swish = cvattn.create("mobilenetv3-hard-sigmoid"), cvattn.create("mobilenetv3-hard-swish")
    x = torch.tensor([-10.0, -3.0, 0.0, 1.5, 3.0, 10.0], dtype=torch.float64)
    torch.testing.assert_close(sig(x), torch.tensor([0, 0, 0.5, 0.75, 1, 1], dtype=torch.float64))
    torch.testing.assert_close(swish(x), torch.tensor([0, 0, 0, 1.125, 3, 10], dtype=torch.float64))


def test_inplace_overwrites_and_default_does_not():
    x = torch.randn(2, 4, 3, 3)
    y = cvattn.create("mobilenetv3-hard-swish")(x)
    assert not torch.equal(x, y)
    z = x.clone()
    out = cvattn.create("mobilenetv3-hard-swish", inplace=True)(z)
    assert out.data_ptr() == z.data_ptr() and torch.equal(out, y)
