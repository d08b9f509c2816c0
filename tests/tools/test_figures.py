"""figures/ holds every drawn figure the site shows, current: a fresh clone builds the site without drawing.

A figure is current when it was drawn for the key of what it shows (the module's code, the cost data, the
drawing code, matplotlib's version). After a change that redraws figures, ``./dev site`` writes the new ones and
removes the old; commit figures/ with the change."""

import cvattn
from scripts import diagram, diagram_key, registry_scan, render, site
from scripts.catalog import load_or_raise

HOW = "run ./dev site (it draws what is stale into figures/) and commit figures/"


def test_every_module_has_a_current_diagram():
    stale = []
    ids = cvattn.list_modules()
    on_disk = diagram_key.current_keys(ids, registry_scan.scan())  # what the build checks
    for module_id in ids:
        stored = diagram_key.stored_key(module_id, site.DIAGRAM_CACHE)
        if stored is None or stored != diagram.cache_key(module_id) or stored != on_disk[module_id]:
            stale.append(module_id)
    assert not stale, f"diagrams missing or stale: {stale[:12]} ({len(stale)}); {HOW}"


def test_every_plot_the_pages_show_is_drawn_and_no_other():
    ids = cvattn.list_modules()
    needed = {site._plot_path(*args) for args in site.module_plots(ids, site.load_costs_data()).values()}
    catalog = load_or_raise()
    needed |= {site._leaderboard_path(catalog, lang)[1] for lang in render.LANGS}
    kept = set(site.PLOT_CACHE.glob("*.svg"))
    assert not needed - kept, f"{len(needed - kept)} plot(s) missing, e.g. {sorted(needed - kept)[:3]}; {HOW}"
    assert not kept - needed, f"{len(kept - needed)} plot(s) no page shows; {HOW}"
    assert {p.name.split(".svg")[0] for p in site.DIAGRAM_CACHE.iterdir()} == set(ids), HOW
