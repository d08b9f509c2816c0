"""Write the generated pages into docs/ (only files whose content changed) and build the site."""

from __future__ import annotations

import contextlib
import filecmp
import functools
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from . import render
from .catalog import ROOT, Catalog

DOCS_DIR = ROOT / "docs"
SITE_DIR = ROOT / "site"


def write_if_changed(path: Path, content: str | bytes) -> bool:
    """Atomically write ``content`` (text as UTF-8) to ``path`` unless it already holds exactly that; True when
    written. The file is replaced, never written into (it may be a hard link, see :func:`reusing_outputs`)."""
    data = content if isinstance(content, bytes) else content.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return True


COSTS_FILE = DOCS_DIR / "data" / "costs.json"
FIGURES_DIR = ROOT / "figures"
"""The drawn figures, kept in the repository so that a fresh clone builds without drawing: ``diagrams/<id>.svg``
with the key it was drawn for beside it, ``plots/<key>.svg`` named by the key of what it shows. A figure whose
key no longer matches is drawn again by the build (commit the changed files); figures no build uses any more
are removed by it."""
DIAGRAM_CACHE = FIGURES_DIR / "diagrams"


def load_costs_data() -> dict:
    """docs/data/costs.json (measured by `python -m scripts costs`), or an empty record."""
    import json

    if not COSTS_FILE.exists():
        return {"modules": {}}
    return json.loads(COSTS_FILE.read_text(encoding="utf-8"))


def module_plots(module_ids: list[str], costs: dict) -> dict[str, tuple]:
    """The plots of the module pages, by their path under docs/: ``(scripts.costs function, *arguments)``."""
    plots: dict[str, tuple] = {}
    for lang in render.LANGS:  # one figure per language: the zh build shows name.zh.svg for name.svg
        sfx = render.suffix(lang)
        for module_id in module_ids:
            scaling = costs["modules"].get(module_id, {}).get("scaling")
            if scaling and scaling.get("resolutions"):
                plots[f"{render.GENERATED_DIR}/scaling/{module_id}{sfx}.svg"] = (
                    "plot_scaling",
                    scaling,
                    lang,
                )
        plots[f"{render.GENERATED_DIR}/modules-cost{sfx}.svg"] = ("plot_comparison", costs, module_ids, lang)
    return plots


def module_assets(module_ids: list[str], costs: dict) -> tuple[dict[str, str], set[Path]]:
    """SVGs for the module pages: the data-flow diagram of every module (drawn from the code, cached by a
    hash of its source and configuration), its scaling plot, and the overview's cost chart; and the plot
    files they were read from.

    What is not cached yet is drawn first, by two worker processes when there is enough of it (a clean
    build draws about two hundred figures); then every figure is read from the caches.
    """
    from .diagram_key import current_keys, stored_key
    from .registry_scan import scan

    plots = {rel: (args, _plot_path(*args)) for rel, args in module_plots(module_ids, costs).items()}
    keys = current_keys(module_ids, scan())  # no matplotlib import when nothing is to be drawn
    missing = [i for i in module_ids if stored_key(i, DIAGRAM_CACHE) != keys[i]]
    _fill_caches(missing, [args for args, path in plots.values() if not path.exists()])
    assets: dict[str, str] = {}
    for module_id in module_ids:
        # a diagram found in the cache above is read as it is; a missing one is drawn now unless a worker did
        if module_id in missing:
            from . import diagram

            svg = diagram.cached_svg(module_id, DIAGRAM_CACHE)
        else:
            svg = DIAGRAM_CACHE / f"{module_id}.svg"
        assets[f"{render.GENERATED_DIR}/diagrams/{module_id}.svg"] = svg.read_text(encoding="utf-8")
    for rel, (args, path) in plots.items():
        assets[rel] = _plot_at(path, *args)
    return assets, {path for _, path in plots.values()}


PARALLEL_MIN_FIGURES = 12
"""Below this many figures to draw, starting worker processes (each imports torch) costs more than it saves."""


def _draw_diagram(module_id: str) -> None:
    from . import diagram

    diagram.cached_svg(module_id, DIAGRAM_CACHE)


def _draw_plot(args: tuple) -> None:
    cached_plot(*args)


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)  # one core per worker process


def _fill_caches(diagram_ids: list[str], plot_args: list[tuple]) -> None:
    """Draw the missing diagrams and plots into their caches, in parallel when it pays."""
    workers = min(2, os.cpu_count() or 1)
    if workers < 2 or len(diagram_ids) + len(plot_args) < PARALLEL_MIN_FIGURES:
        return  # drawn one by one, on first use
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # "spawn": the parent may already run torch's thread pool, which a forked child must not inherit
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init) as pool:
        jobs = [pool.submit(_draw_diagram, i) for i in diagram_ids]
        jobs += [pool.submit(_draw_plot, args) for args in plot_args]
        for job in jobs:
            job.result()  # re-raises a worker's error here


PLOT_CACHE = FIGURES_DIR / "plots"


def _plotting_source() -> bytes:
    """What the cost plots are drawn by: the plot section of scripts/costs.py (between its ``plot`` and
    ``data file`` rulers) and its SVG settings, so that a change to the counting does not redraw every plot.
    The whole file when the rulers are not found. Read again only when the file changed (it is asked for
    every plot)."""
    path = Path(__file__).parent / "costs.py"
    stat = path.stat()
    return _plotting_source_of(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _plotting_source_of(path: str, mtime_ns: int, size: int) -> bytes:
    text = Path(path).read_text(encoding="utf-8")
    found = re.search(r"^# -+ plot\n(.*?)^# -+ data file\n", text, re.S | re.M)
    if found is None:
        return text.encode()
    settings = re.findall(r"^_SVG_RC = .*$", text, re.M)
    return ("\n".join(settings) + found.group(1)).encode()


def _plot_path(name: str, *args) -> Path:
    """Cache file of ``scripts.costs.<name>(*args)``: keyed by the arguments and the plotting code."""
    import json

    source = _plotting_source()
    key = hashlib.sha256(
        name.encode() + source + json.dumps(args, sort_keys=True, default=str).encode()
    ).hexdigest()
    return PLOT_CACHE / f"{key}.svg"


def cached_plot(name: str, *args) -> str:
    """``scripts.costs.<name>(*args)`` (an SVG), reused while the arguments and the plotting code are
    unchanged; costs.py (and torch) is imported only to draw a plot that is not cached."""
    return _plot_at(_plot_path(name, *args), name, *args)


def _plot_at(path: Path, name: str, *args) -> str:
    """The plot kept at ``path`` (its :func:`_plot_path`), drawn there first when it is not."""
    if path.exists():
        return path.read_text(encoding="utf-8")
    from . import costs

    svg = getattr(costs, name)(*args)
    write_if_changed(path, svg)
    return svg


RESULT_FILES = sorted((DOCS_DIR / "data").glob("evaluation*.json"))
GALLERY_DIR = DOCS_DIR / "assets" / "gallery"
TITLES = {
    "leaderboard": {"en": "Leaderboard", "zh": "排行榜"},
    "gallery": {"en": "Attention maps", "zh": "注意力图"},
}
GALLERY_DATA = DOCS_DIR / "data" / "gallery.json"
GALLERY_INTRO = {
    "en": (
        "Spatial attention maps of **trained** networks: a CIFAR-style ResNet-18 (width {width}) with the module in "
        "every residual block, trained {epochs} epochs on scikit-learn's digits by the evaluation harness, then run "
        "on the first test image of the digits {digits}. Each figure shows the map of the last block of stage 2 "
        "(16 × 16), captured with forward hooks (the modules' math is unchanged), over the digit in grey with its "
        "outline in white; the colour bar gives the map's values (one scale per figure). The digits are a small, "
        "easy data set: the maps show what each mechanism learns to weight there, not how it behaves on ImageNet. "
        "Made by `python -m scripts attention-maps --trained --out docs/assets/gallery`."
    ),
    "zh": (
        "以下是**训练后**网络的空间注意力图：在 CIFAR 风格的 ResNet-18（宽度 {width}）的每个残差块中插入该模块，"
        "由评测工具在 scikit-learn 自带的手写数字数据集上训练 {epochs} 个 epoch，再输入数字 {digits} 各自的第一张测试图像。"
        "每幅图给出第 2 阶段最后一个块的注意力图（16 × 16），通过前向钩子捕获（不改变模块本身的计算），叠加在灰度数字上，"
        "白线为数字轮廓；色条标出注意力图的数值（每幅图使用同一色标）。手写数字是一个规模小、难度低的数据集，"
        "这些图反映的是各机制在该任务上学到的加权方式，并不代表它在 ImageNet 上的表现。"
        "由 `python -m scripts attention-maps --trained --out docs/assets/gallery` 生成。"
    ),
}
GALLERY_CAPTION = {
    "en": "**Map**: {meaning}. **Block**: `{block}`. **Test top-1** of this network on the digits: {top1}%.",
    "zh": "**注意力图**：{meaning}。**所在块**：`{block}`。该网络在手写数字测试集上的 **top-1**：{top1}%。",
}
PAPER_LABEL = {"en": "Paper", "zh": "论文"}
# a title's qualifier, cut from its short form: "Coordinate Attention for Efficient Mobile Network Design"
_QUALIFIER = re.compile(r"\s+(?:for|in|via|with|through|towards?|meets?)\s", re.I)


def short_title(title: str) -> str:
    """The short form of a paper's title: its main title before a subtitle ("CBAM: Convolutional Block
    Attention Module" -> "CBAM"), else the title up to the phrase that qualifies it ("Dual Attention Network
    for Scene Segmentation" -> "Dual Attention Network"), else the whole title."""
    if not title.strip():
        raise ValueError("short_title: empty title")
    main = title.split(": ", 1)[0].strip()
    if main != title.strip():
        return main
    head = _QUALIFIER.split(main, 1)[0]
    return head if len(head.split()) >= 2 else main


def gallery_heading(catalog: Catalog, module_id: str, lang: str) -> str:
    """A gallery section's heading: the short title of the module's paper and the module id. On Chinese pages
    the short title's Chinese form when the catalogue's vocabulary (catalog/tags.yaml) has one."""
    paper = catalog.paper_of_module(module_id)
    if paper is None:
        return f"## `{module_id}`\n\n"
    name = short_title(paper.title)
    if lang == "zh":
        vocabulary = {term.en.lower().replace("-", " "): term.zh for term in catalog.tags}
        name = vocabulary.get(name.lower().replace("-", " "), name)
    return f"## {render.text(name)} · `{module_id}`\n\n"


def gallery_meaning(module_id: str, entry: dict, lang: str) -> str:
    """The description of a recorded map in ``lang`` (``meaning`` or ``meaning_zh`` of docs/data/gallery.json)."""
    key = "meaning" if lang == "en" else f"meaning_{lang}"
    if not entry.get(key):
        raise ValueError(
            f"{GALLERY_DATA}: {module_id} has no {key!r}; write it in cvattn.attention_maps.SPATIAL_MAPS and run "
            "`python -m scripts attention-maps --describe`"
        )
    return entry[key]


def gallery_page(catalog: Catalog, lang: str, data_file: Path | None = None) -> str:
    """The attention-map gallery: one section per module of docs/data/gallery.json (or ``data_file``), headed
    by its paper's short title, its paper linked and its map described in ``lang``."""
    import json

    data_file = GALLERY_DATA if data_file is None else data_file
    title = TITLES["gallery"][lang]
    out = [render._front(title), f"# {title}\n\n"]
    if not data_file.exists():
        return "".join(out) + "—\n"
    data = json.loads(data_file.read_text(encoding="utf-8"))
    training = data["training"]
    digits = "、".join(map(str, data["digits"])) if lang == "zh" else ", ".join(map(str, data["digits"]))
    out.append(
        GALLERY_INTRO[lang].format(width=training["width"], epochs=training["epochs"], digits=digits) + "\n\n"
    )
    for module_id, entry in sorted(data["modules"].items()):
        if not (GALLERY_DIR / f"{module_id}.png").exists():
            continue
        paper = catalog.paper_of_module(module_id)
        out.append(gallery_heading(catalog, module_id, lang))
        if paper is not None:
            out.append(
                f"{PAPER_LABEL[lang]}{render.COLON[lang]}"
                f"{render.link(render.text(paper.title), f'papers/{paper.id}.md')}\n\n"
            )
        out.append(f"![{module_id}](../assets/gallery/{module_id}.png)\n\n")
        top1 = "—" if entry.get("top1") is None else f"{entry['top1']:.2f}"
        out.append(
            GALLERY_CAPTION[lang].format(
                meaning=render.text(gallery_meaning(module_id, entry, lang)), block=entry["block"], top1=top1
            )
            + "\n\n"
        )
    return "".join(out)


SCATTER_ALT = {"en": "accuracy vs cost", "zh": "精度与开销"}


def prune_figures(module_ids: set[str], plots: set[Path]) -> int:
    """Remove the figures of modules that are gone and the plots that no page shows; returns how many."""
    removed = 0
    for path in sorted(DIAGRAM_CACHE.glob("*.svg*")):
        if path.name.split(".svg")[0] not in module_ids:
            path.unlink()
            removed += 1
    for path in sorted(PLOT_CACHE.glob("*.svg")):
        if path not in plots:
            path.unlink()
            removed += 1
    return removed


def _leaderboard_path(catalog: Catalog, lang: str = "en") -> tuple[dict, Path]:
    """The leaderboard scatter's points and the file it is kept in: keyed by the points, the language,
    scripts/leaderboard.py and matplotlib's version."""
    import json
    from importlib import metadata

    from . import leaderboard

    groups = leaderboard.scatter_groups(catalog, leaderboard.load_results(RESULT_FILES), lang)
    key = hashlib.sha256(
        "\0".join(
            [
                (Path(__file__).parent / "leaderboard.py").read_text(encoding="utf-8"),
                json.dumps(groups, sort_keys=True),
                lang,
                metadata.version("matplotlib"),  # importing matplotlib for it costs half a second
            ]
        ).encode("utf-8")
    ).hexdigest()
    return groups, PLOT_CACHE / f"leaderboard-{key}.svg"


def _leaderboard_plot(catalog: Catalog, lang: str = "en", *, with_path: bool = False):
    """The leaderboard scatter (``leaderboard.scatter_svg``), drawn only when its file is missing (drawing it
    takes about a second a language)."""
    from . import leaderboard

    groups, path = _leaderboard_path(catalog, lang)
    if path.exists():
        svg = path.read_text(encoding="utf-8")
    else:
        svg = leaderboard.plot_groups(groups, lang)
        write_if_changed(path, svg)
    return (svg, path) if with_path else svg


def extra_pages(catalog: Catalog) -> dict[str, str]:
    """The leaderboard (reported results beside the harness's) and the attention-map gallery, en and zh."""
    from . import leaderboard

    results = leaderboard.load_results(RESULT_FILES)
    pages = {}
    for lang in render.LANGS:
        sfx = render.suffix(lang)
        title = TITLES["leaderboard"][lang]
        pages[f"{render.GENERATED_DIR}/leaderboard{sfx}.md"] = (
            render._front(title, wide=True)
            + f"# {title}\n\n"
            + leaderboard.leaderboard_markdown(catalog, results, lang, depth=1)
            + f"\n![{SCATTER_ALT[lang]}](leaderboard.svg)\n"  # the zh build gets leaderboard.zh.svg (i18n suffix)
        )
        pages[f"{render.GENERATED_DIR}/gallery{sfx}.md"] = gallery_page(catalog, lang)
    return pages


def generate(catalog: Catalog, docs_dir: Path = DOCS_DIR, *, assets: bool = True) -> tuple[int, int]:
    """Write every generated page and asset under ``docs_dir/catalog``; remove generated files no longer
    produced. ``assets=False`` skips the diagrams and plots (which import torch), for tests of the pages.

    Returns:
        (files written, files removed)
    """
    from .registry_scan import scan_code, scan_details

    details = scan_details()
    costs = load_costs_data()
    paths = {i: d.path for i, d in details.items()}
    from .bench_page import load_bench
    from .parity import load_data

    pages = render.site_pages(
        catalog,
        paths,
        {i: d.inputs for i, d in details.items()},
        costs,
        load_data(),
        code=scan_code(),
        bench=load_bench(),
        outputs={i: d.outputs for i, d in details.items()},
    )
    pages.update(extra_pages(catalog))
    if assets:
        figures, used = module_assets(list(details), costs)
        pages.update(figures)
        for lang in render.LANGS:  # cheap: one scatter per language
            svg, path = _leaderboard_plot(catalog, lang, with_path=True)
            pages[f"{render.GENERATED_DIR}/leaderboard{render.suffix(lang)}.svg"] = svg
            used.add(path)
        from .catalog import CATALOG_DIR

        if CATALOG_DIR == (ROOT / "catalog").resolve():  # another catalogue (a test's) shows other plots
            prune_figures(set(details), used)
    written = sum(write_if_changed(docs_dir / rel, content) for rel, content in pages.items())
    root = docs_dir / render.GENERATED_DIR
    removed = 0
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.relative_to(docs_dir).as_posix() not in pages:
            path.unlink()
            removed += 1
    return written, removed


STAMP_NAME = ".cvattn-build-stamp"
INPUTS = (
    "mkdocs.yml",
    "catalog",
    "docs",
    "hooks",
    "scripts",
    "modules/cvattn",
    "requirements.txt",
    "tests/parity/fixtures",  # which modules have a fixture: the verdicts on the module pages
)


def inputs_digest() -> str:
    """sha256 over every file the site is built from (generated pages excluded: they follow from the rest)."""
    digest = hashlib.sha256()
    generated = DOCS_DIR / render.GENERATED_DIR
    for name in INPUTS:
        base = ROOT / name
        paths = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in paths:
            if generated in path.parents or "__pycache__" in path.parts:
                continue
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_up_to_date(site_dir: Path = SITE_DIR, digest: str | None = None) -> bool:
    """Whether ``site_dir`` was built from inputs with ``digest`` (default: the current :func:`inputs_digest`)."""
    stamp = site_dir / STAMP_NAME
    return stamp.exists() and stamp.read_text() == (inputs_digest() if digest is None else digest)


def _same_bytes(path: str, content: bytes) -> bool:
    try:
        if os.path.getsize(path) != len(content):
            return False
        with open(path, "rb") as fh:
            return fh.read() == content
    except OSError:
        return False


def _same_files(a: str, b: str) -> bool:
    try:
        return filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


@contextlib.contextmanager
def reusing_outputs(new_root: Path, old_root: Path):
    """While MkDocs builds into ``new_root``, every file it writes or copies with the same bytes as the file at
    the same place under ``old_root`` (the previous build) is hard-linked from there instead of written anew.

    A one-entry rebuild writes about 3,000 files into a fresh folder, and on this project's disks creating a
    file with its data costs ten times more than a link (about a second a build). The old build's files are
    never written through: a path is unlinked before anything else is put there, so a failed build leaves the
    old site as it was. MkDocs' ``utils.copy_file`` and ``utils.write_file`` are wrapped (both are looked up on
    the module at each call), and only for this build; folders already made are remembered.
    """
    from mkdocs import utils

    copy_file, write_file = utils.copy_file, utils.write_file
    prefix = str(new_root) + os.sep
    made: set[str] = set()

    def prepare(output_path: str) -> str | None:
        """Make the folder, clear the path; the old build's file at the same place, if it has one."""
        folder = os.path.dirname(output_path)
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        if os.path.lexists(output_path):
            os.unlink(output_path)  # written twice in one build (each language copies the shared assets)
        if not output_path.startswith(prefix):
            return None
        return os.path.join(old_root, output_path[len(prefix) :])

    def link(old: str, output_path: str) -> bool:
        try:
            os.link(old, output_path)
            return True
        except OSError:  # another file system, or links not allowed: write the file
            return False

    def reusing_write(content: bytes, output_path: str) -> None:
        old = prepare(output_path)
        if old is None or not (_same_bytes(old, content) and link(old, output_path)):
            with open(output_path, "wb") as fh:
                fh.write(content)

    def reusing_copy(source_path: str, output_path: str) -> None:
        if os.path.isdir(output_path):
            output_path = os.path.join(output_path, os.path.basename(source_path))
        if os.path.exists(output_path) and os.path.samefile(source_path, output_path):
            raise shutil.SameFileError(source_path, output_path)  # a plugin wrote it into the site: kept
        old = prepare(output_path)
        if old is None or not (_same_files(old, source_path) and link(old, output_path)):
            shutil.copyfile(source_path, output_path)

    utils.copy_file, utils.write_file = reusing_copy, reusing_write
    try:
        yield
    finally:
        utils.copy_file, utils.write_file = copy_file, write_file


def mkdocs_build(site_dir: Path = SITE_DIR, strict: bool = True, *, digest: str | None = None) -> None:
    """Build into a temporary folder, then swap it in: a failed build leaves the old site untouched.

    MkDocs runs in this process (a second interpreter would import MkDocs, Material and the catalogue tooling
    again, about a second of a one-entry rebuild). The digest of the inputs (``digest``, when the caller has
    just computed it) is stored in the site, so that ``is_up_to_date`` can skip a rebuild that would produce
    the same site.
    """
    import click

    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's end-of-life banner would bury real warnings
    from mkdocs.__main__ import cli

    digest = inputs_digest() if digest is None else digest
    tmp = site_dir.with_name(site_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    args = ["build", "--clean", "--site-dir", str(tmp), "--config-file", str(ROOT / "mkdocs.yml")]
    if strict:
        args.append("--strict")
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        with reusing_outputs(tmp, site_dir):
            cli.main(args, prog_name="mkdocs", standalone_mode=False)
    except (click.ClickException, click.exceptions.Abort, SystemExit) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = exc.format_message() if isinstance(exc, click.ClickException) else type(exc).__name__
        raise RuntimeError(f"mkdocs build failed ({reason}); the previous site/ is unchanged") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        os.chdir(cwd)
    (tmp / STAMP_NAME).write_text(digest)
    old = site_dir.with_name(site_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if site_dir.exists():
        site_dir.rename(old)
    tmp.rename(site_dir)
    shutil.rmtree(old, ignore_errors=True)
