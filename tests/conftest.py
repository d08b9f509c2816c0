import pytest
import torch


@pytest.fixture(autouse=True)
def _seed_and_threads():
    """Every test starts from the same random state; tests run with one thread (xdist runs them in parallel)."""
    torch.manual_seed(0)
    torch.set_num_threads(1)
    yield
