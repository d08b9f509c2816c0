"""The contract every registered module keeps, parametrised over the whole registry."""

from __future__ import annotations

import doctest
import inspect

import pytest
import torch
from torch import fx, nn

import cvattn

IDS = cvattn.list_modules()


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _run(module, inputs):
    return module(*_as_tuple(inputs))


def _outputs(out):
    return [t for t in _as_tuple(out) if isinstance(t, torch.Tensor)]


def test_registry_entry_points():
    assert IDS == sorted(IDS) and len(IDS) == len(set(IDS))
    with pytest.raises(KeyError, match="did you mean"):
        cvattn.create(IDS[0] + "x")
    with pytest.raises(ValueError):
        cvattn.list_modules(kind="nonsense")
    assert set(cvattn.list_modules("attention")) <= set(IDS)


def test_duplicate_id_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        cvattn.register(IDS[0], kind="attention", inputs=(8, 4, 4))(type("Dup", (nn.Module,), {}))


@pytest.mark.parametrize("id", IDS)
def test_shape_and_finite(id):
    spec = cvattn.get_spec(id)
    module = cvattn.create(id).eval()
    x = cvattn.example_input(id)
    with torch.no_grad():
        out = _run(module, x)
    for t in _outputs(out):
        assert torch.isfinite(t).all()
    returned = len(out) if isinstance(out, tuple) else 1
    assert returned == spec.outputs, (
        f"{id}: forward returns {returned} tensors; register(..., outputs={returned})"
    )
    if spec.kind in ("attention", "activation"):
        assert out.shape == _as_tuple(x)[0].shape


@pytest.mark.parametrize("id", IDS)
@pytest.mark.parametrize("odd", [False, True])
def test_batch_one_and_odd_size(id, odd):
    module = cvattn.create(id)
    for mode in (module.train(), module.eval()):
        out = _run(mode, cvattn.example_input(id, batch=1, odd=odd))
        assert all(t.shape[0] == 1 for t in _outputs(out))


@pytest.mark.parametrize("id", IDS)
def test_gradient_reaches_every_parameter(id):
    module = cvattn.create(id).train()
    x = tuple(t.requires_grad_(True) for t in _as_tuple(cvattn.example_input(id)))
    out = _run(module, x)
    sum(t.float().square().mean() for t in _outputs(out)).backward()
    assert x[0].grad is not None and x[0].grad.abs().sum() > 0, "no gradient reaches the input"
    missing = [
        n
        for n, p in module.named_parameters()
        if p.requires_grad and (p.grad is None or not p.grad.abs().sum() > 0)
    ]
    assert not missing, f"no gradient reaches {missing}"


@pytest.mark.parametrize("id", IDS)
def test_eval_is_deterministic_and_channels_last_agrees(id):
    module = cvattn.create(id).eval()
    x = cvattn.example_input(id)
    with torch.no_grad():
        a, b = _outputs(_run(module, x)), _outputs(_run(module, x))
        # maps go channels_last, clips channels_last_3d; other inputs (e.g. a query vector) stay as they are
        formats = {4: torch.channels_last, 5: torch.channels_last_3d}
        as_cl = tuple(
            t.contiguous(memory_format=formats[t.dim()]) if t.dim() in formats else t for t in _as_tuple(x)
        )
        cl = _outputs(_run(module, as_cl))
    for ta, tb, tc in zip(a, b, cl, strict=True):
        assert torch.equal(ta, tb)
        torch.testing.assert_close(tc, ta, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("id", IDS)
def test_autocast_bf16(id):
    module = cvattn.create(id).eval()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = _run(module, cvattn.example_input(id))
    assert all(torch.isfinite(t.float()).all() for t in _outputs(out))


@pytest.mark.parametrize("id", IDS)
def test_fx_trace_matches_eager(id):
    module = cvattn.create(id).eval()
    traced = fx.symbolic_trace(module)
    x = cvattn.example_input(id)
    with torch.no_grad():
        for a, b in zip(_outputs(_run(module, x)), _outputs(_run(traced, x)), strict=True):
            torch.testing.assert_close(b, a)


@pytest.mark.parametrize("id", [i for i in IDS if cvattn.get_spec(i).checks_input])
def test_bad_input_raises_value_error(id):
    module = cvattn.create(id).eval()
    x = _as_tuple(cvattn.example_input(id))
    with pytest.raises(ValueError, match="expected"):
        _run(module, (x[0][0],) + x[1:])  # one rank short (a map without its batch, a clip without its batch)
    if x[0].dim() in (4, 5):
        wrong = torch.randn(x[0].shape[0], x[0].shape[1] + 1, *x[0].shape[2:])
        with pytest.raises(ValueError, match="expected"):
            _run(module, (wrong,) + x[1:])


@pytest.mark.parametrize("id", IDS)
def test_docstring_and_example_runs(id):
    cls = cvattn.get_spec(id).cls
    doc = inspect.getdoc(cls) or ""
    for section in ("Args:", "Shape:", "Examples:", "Reference:"):
        assert section in doc, f"{cls.__name__} docstring lacks {section}"
    header = inspect.getdoc(inspect.getmodule(cls)) or ""
    assert "Paper:" in header or "paper" in header.lower(), "file header must name the paper"
    tests = doctest.DocTestFinder().find(cls, cls.__name__, globs={})
    examples = [t for t in tests if t.examples]
    assert examples, f"{cls.__name__} docstring has no runnable >>> example"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for t in examples:
        runner.run(t)
    assert runner.failures == 0


def test_source_scan_agrees_with_registry():
    """The site build reads ids from source (no torch import); it must see exactly what cvattn registers."""
    from scripts.registry_scan import scan, scan_details

    expected = {i: f"{cvattn.get_spec(i).cls.__module__}.{cvattn.get_spec(i).cls.__qualname__}" for i in IDS}
    assert scan() == expected
    details = scan_details()
    assert {i: (d.inputs, d.outputs) for i, d in details.items()} == {
        i: (cvattn.get_spec(i).inputs, cvattn.get_spec(i).outputs) for i in IDS
    }


def test_public_names_agree_with_registry():
    """``cvattn.__all__`` exports the entry points and exactly the registered classes."""
    classes = {cvattn.get_spec(i).cls.__name__ for i in IDS}
    assert classes <= set(cvattn.__all__)
    assert all(getattr(cvattn, name) is not None for name in cvattn.__all__)


@pytest.mark.parametrize("id", IDS)
def test_contiguous_input_gives_contiguous_output(id):
    # a strided view handed on (e.g. the transpose that ends token attention) slows the next layers and
    # has crashed oneDNN's 1x1-convolution weight gradient on CPU (batch 29 in a ResNet)
    module = cvattn.create(id).train()
    for t in _outputs(_run(module, cvattn.example_input(id))):
        assert t.is_contiguous(), f"{id}: output of shape {tuple(t.shape)} has strides {t.stride()}"


def test_shown_constructor_is_the_real_one():
    """The signature and registry config a module page shows (read from the source) are the class's own."""
    import ast
    from pathlib import Path

    from scripts.catalog import ROOT
    from scripts.registry_scan import scan_code

    code = scan_code()
    assert set(code) == set(cvattn.list_modules())
    for module_id, info in code.items():
        spec = cvattn.get_spec(module_id)
        assert Path(inspect.getsourcefile(spec.cls)).resolve() == (ROOT / info.source).resolve(), module_id
        assert info.signature is not None and info.signature.startswith(spec.cls.__name__ + "("), module_id
        shown = ast.parse(info.signature.replace("\n", ""), mode="eval").body
        assert isinstance(shown, ast.Call)
        real = [p for p in inspect.signature(spec.cls).parameters.values()]
        names = [p.name for p in real if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        assert [a.id for a in shown.args if isinstance(a, ast.Name)] + [
            k.arg for k in shown.keywords
        ] == names, module_id
        for kw in shown.keywords:
            default = inspect.signature(spec.cls).parameters[kw.arg].default
            # evaluated where the class is defined, the shown default (nn.ReLU, PSP_SIZES, 16) is the real one
            namespace = spec.cls.__init__.__globals__
            assert eval(ast.unparse(kw.value), dict(namespace)) == default, (module_id, kw.arg)
        config = ast.parse(f"f({info.config})", mode="eval").body
        assert {k.arg: ast.literal_eval(k.value) for k in config.keywords} == spec.defaults, module_id
