"""Every parity fixture (numbers recorded from an official implementation) against the cvattn module.

A fixture holds, per configuration, the official weights renamed to ours, the inputs, the outputs in eval and
train mode, the input gradients and the running statistics after the training step, in float64. Outputs and
gradients must match to the configuration's bound (1e-6 unless it states a looser one and why); a
configuration recorded as a documented deviation must really differ.
"""

from __future__ import annotations

import pytest

from scripts import parity

FIXTURES = sorted(parity.FIXTURE_DIR.glob("*.pt"))


def _cases():
    for path in FIXTURES:
        for config in parity.load_fixture(path)["configs"]:
            yield pytest.param(path.stem, config, id=f"{path.stem}[{config['name']}]")


@pytest.mark.parametrize(("module_id", "config"), list(_cases()))
def test_module_matches_the_official_code(module_id, config):
    result = parity.check_config(module_id, config)
    if config["expect"] == "differ":
        assert result.max_diff > config["tolerance"], (
            f"{module_id} [{config['name']}] is recorded as a documented deviation ({config['why']}) but now "
            f"matches the official code: update the docstring's Deviations and the recipe"
        )
        return
    assert config["tolerance"] == parity.TOLERANCE or config["why"], "a looser bound needs its reason"
    bad = {k: v for k, v in result.diffs.items() if not v <= config["tolerance"]}
    assert not bad, f"{module_id} [{config['name']}]: max |diff| over {config['tolerance']:g}: {bad}"
    assert set(result.diffs) >= {f"{m} output" for m in config["modes"]} | {
        f"{m} input grad" for m in config["modes"]
    }


def test_fixtures_and_recipes_agree():
    """A recipe without its fixture, or a fixture whose provenance no longer matches its recipe, is stale."""
    assert sorted(p.stem for p in FIXTURES) == parity.recipe_ids()
    for path in FIXTURES:
        fixture = parity.load_fixture(path)
        recipe = parity.load_recipe(path.stem)
        prov = fixture["provenance"]
        assert (prov["repo"], prov["file"], prov["class"]) == (recipe.repo, recipe.file, recipe.cls), (
            path.name
        )
        assert prov["patches"] == [list(p) for p in recipe.patches], f"{path.name}: record it again"
        assert [c["name"] for c in fixture["configs"]] == [c.name for c in recipe.configs], path.name
        assert len(prov["commit"]) == 40 and prov["dtype"] == "float64"
        assert not any(c["expect"] == "differ" for c in fixture["configs"]) or prov["deviation"], (
            f"{path.name}: a configuration expected to differ needs the recipe's deviation text"
        )
        assert bool(prov["deviation"]) == bool(prov["deviation_zh"]), f"{path.name}: deviation in en and zh"
        assert (prov["deviation"], prov["deviation_zh"]) == (recipe.deviation, recipe.deviation_zh), path.name


def test_every_fixture_has_a_non_square_input_or_says_why():
    for path in FIXTURES:
        fixture = parity.load_fixture(path)
        shapes = [tuple(x.shape) for c in fixture["configs"] for x in c["inputs"]]
        non_square = any(len(s) >= 4 and s[-1] != s[-2] for s in shapes)
        prov = fixture["provenance"]
        assert non_square or "non-square" in (prov["note"] + prov["deviation"]), path.name


FIXTURE_BUDGET_MB = 40
"""All fixtures together: about 150 kB a module (float64 weights, inputs, outputs and gradients of two or three
small configurations) for the ~250 modules of the grown catalogue. Record small inputs and few channels."""


def test_fixtures_stay_small():
    total = sum(p.stat().st_size for p in FIXTURES)
    assert total < FIXTURE_BUDGET_MB * 2**20, (
        f"parity fixtures take {total / 2**20:.1f} MB; the budget is {FIXTURE_BUDGET_MB} MB"
    )
    largest = max(FIXTURES, key=lambda p: p.stat().st_size)
    assert largest.stat().st_size < 1 * 2**20, f"{largest.name} takes more than 1 MB: record smaller inputs"


def test_the_sites_record_is_current():
    """docs/data/parity.json (the site's verdicts) agrees with the fixtures and the catalogue; regenerate it with
    `python -m scripts parity status --write`."""
    from scripts.catalog import load_or_raise

    stored = parity.load_data()
    assert parity.without_measurements(stored) == parity.summary(load_or_raise()), (
        "docs/data/parity.json is stale: run `python -m scripts parity status --write`"
    )
    for module_id, entry in stored["modules"].items():
        for config in entry.get("configs", []):
            assert config["ok"], f"{module_id} [{config['name']}] was recorded as failing"
