"""The token-layout adapter: (N, C, H, W) <-> (N, L, C) and (N, H, W, C), both ways."""

import pytest
import torch

import cvattn
from cvattn.tokens import TokenAdapter, from_channels_last, from_tokens, to_channels_last, to_tokens


def test_round_trips_and_row_major_order():
    x = torch.randn(2, 5, 3, 4)
    t = to_tokens(x)
    assert t.shape == (2, 12, 5)
    assert torch.equal(t[:, 1 * 4 + 2], x[:, :, 1, 2])  # token i*W + j is pixel (i, j)
    assert torch.equal(from_tokens(t, (3, 4)), x)
    assert torch.equal(to_tokens(from_tokens(t, (3, 4))), t)
    c = to_channels_last(x)
    assert c.shape == (2, 3, 4, 5) and torch.equal(c[:, 1, 2], x[:, :, 1, 2])
    assert torch.equal(from_channels_last(c), x)
    with pytest.raises(ValueError, match="12 tokens do not make a 4x4 map"):
        from_tokens(t, (4, 4))


@pytest.mark.parametrize("layout", ["nlc", "nhwc"])
def test_adapter_runs_a_module_on_tokens(layout):
    torch.manual_seed(0)
    module = cvattn.create("cbam", channels=16).eval()
    x = torch.randn(2, 16, 5, 7)
    adapter = TokenAdapter(module, layout)
    if layout == "nlc":
        out = adapter(to_tokens(x), (5, 7))
        assert torch.allclose(from_tokens(out, (5, 7)), module(x))
    else:
        out = adapter(to_channels_last(x))
        assert torch.allclose(from_channels_last(out), module(x))


def test_adapter_refuses_the_wrong_layout():
    adapter = TokenAdapter(cvattn.create("se", channels=8))
    with pytest.raises(ValueError, match=r"\(N, L, C\) tokens and size"):
        adapter(torch.randn(2, 8, 3, 3))
    with pytest.raises(ValueError, match="layout must be"):
        TokenAdapter(torch.nn.Identity(), "nchw")


def test_from_tokens_traces_with_torch_fx():
    class Roundtrip(torch.nn.Module):
        def forward(self, x):
            return from_tokens(to_tokens(x) * 2, (x.shape[2], x.shape[3]))

    traced = torch.fx.symbolic_trace(Roundtrip())
    x = torch.randn(2, 3, 4, 5)
    assert torch.equal(traced(x), 2 * x)
