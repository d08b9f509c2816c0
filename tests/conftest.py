import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Every test starts from the same random state; tests run with one thread (xdist runs them in parallel)."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="module")
def catalog():
    """The real catalogue, loaded and checked (a test file may define its own ``catalog`` to load it otherwise)."""
    from scripts.catalog import load

    catalog, problems = load()
    assert problems == [], "\n".join(map(str, problems))
    return catalog


@pytest.fixture(scope="module")
def pages(catalog):
    """Every page the site generates from the real catalogue, keyed by path (render level: no build)."""
    from scripts import render

    api_paths = {m: f"cvattn.{m}" for p in catalog.papers for m in p.modules}
    return render.site_pages(catalog, api_paths=api_paths)
