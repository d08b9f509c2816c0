"""Every registered module runs under ``torch.compile(fullgraph=True)``: no graph break, same numbers as eager.

The dynamo check (eager backend, no code generation) runs for every module: forward in eval and train mode and
a backward, outputs, gradients and buffers compared with the eager module. One module is compiled end to end
by inductor (generated C++) to prove the whole path."""

import pytest
import torch

import cvattn
from scripts import compile_check


@pytest.mark.parametrize("module_id", cvattn.list_modules())
def test_module_is_captured_whole_by_dynamo_and_matches_eager(module_id):
    result = compile_check.dynamo_check(module_id)
    assert result.ok, f"{module_id}: [{result.stage}] {result.error}"
    assert result.graphs == 2 and result.ops > 0  # one graph per mode, each with the module's operations


def test_a_graph_break_is_reported_with_dynamo_reason(monkeypatch):
    """A module that breaks the graph fails the check, with dynamo's reason; it does not pass silently."""

    class Breaks(torch.nn.Module):
        def forward(self, x):
            if x.sum().item() > 0:  # data-dependent Python control flow: a graph break
                return x * 2
            return x

    monkeypatch.setattr(cvattn, "create", lambda *a, **k: Breaks())
    monkeypatch.setattr(cvattn, "example_input", lambda *a, **k: torch.ones(2, 3, 4, 4))
    result = compile_check.dynamo_check("se")
    assert not result.ok and result.stage == "eval"
    assert "item" in result.error or "graph break" in result.error.lower(), result.error


def test_a_sample_module_compiled_end_to_end_by_inductor_matches_eager():
    assert compile_check.has_cxx_compiler(), "inductor needs a C++ compiler (g++) on PATH"
    result = compile_check.inductor_check("eca", modes=("eval",))
    assert result.ok, f"[{result.stage}] {result.error}"
