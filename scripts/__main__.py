"""cvattn's command-line entry: ``python -m scripts <command> [options]``.

Commands (each one's own ``--help`` is its manual):

    validate   check the whole catalogue; print every problem as path:line: field: problem (hint)
    schema     write catalog/schema.json from the typed model (--check: fail when it is stale)
    readme     regenerate the list in README.md between its markers (--check: fail when it is stale)
    pages      write the generated pages under docs/catalog/ (what the MkDocs hook does)
    build      validate, then build the site into site/ (--serve: serve it live on 127.0.0.1:8000)
    export     write catalog.bib and catalog.json to a folder
    links      check links: offline (site's internal links and fragments, URL syntax) or --online
    new        create an entry skeleton from a BibTeX entry or an arXiv id
    bench      time modules against timm and fightingcv-attention: the benchmark matrix (./dev bench sets up)
    diagrams   draw the data-flow SVG of every module into figures/diagrams/ (redraws only what changed)
    costs      measure parameters, FLOPs, latency and peak memory of every module into docs/data/costs.json
    evaluate   train a CIFAR ResNet with modules inserted (digits or CIFAR-10); one JSON record per module
    attention-maps  overlay modules' spatial attention maps on a sample image (the site's gallery)
    parity     record fixtures from official code (record ID --official DIR); print every module's verdict (status)
    compile-check  run every module under torch.compile(fullgraph=True) and compare with eager (graph breaks)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import render
from .catalog import CATALOG_DIR, ROOT, Catalog, load, schema_text
from .site import SITE_DIR, generate, inputs_digest, is_up_to_date, mkdocs_build, write_if_changed

README = ROOT / "README.md"
SCHEMA = CATALOG_DIR / "schema.json"


def _load_or_report(root: Path) -> Catalog | None:
    catalog, problems = load(root)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"\n{len(problems)} problem(s); nothing was written.", file=sys.stderr)
    return catalog


def cmd_validate(args: argparse.Namespace) -> int:
    """Check every catalogue file and the cross-file rules; exit 1 when anything is wrong.

    Options:
        --catalog DIR   the catalogue folder (default: catalog/)
    """
    catalog = _load_or_report(args.catalog)
    if catalog is None:
        return 1
    print(
        f"catalogue OK: {len(catalog.papers)} entries, {len(catalog.categories)} categories, "
        f"{sum(len(p.modules) for p in catalog.papers)} modules"
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Write catalog/schema.json (the JSON Schema editors use) from the typed model.

    Options:
        --check   write nothing; exit 1 when the committed schema differs from the model
    """
    expected = schema_text(args.catalog)
    if args.check:
        if not SCHEMA.exists() or SCHEMA.read_text(encoding="utf-8") != expected:
            print("catalog/schema.json is stale: run `python -m scripts schema`", file=sys.stderr)
            return 1
        print("catalog/schema.json is up to date")
        return 0
    print("catalog/schema.json " + ("written" if write_if_changed(SCHEMA, expected) else "unchanged"))
    return 0


def _generated_docs(catalog: Catalog) -> dict[Path, str]:
    """README.md with the list, CONTRIBUTING(.zh).md with the field reference: what they must contain."""
    import json

    schema = json.loads(schema_text())
    from .leaderboard import load_results
    from .site import RESULT_FILES

    readme = render.splice_readme(README.read_text(encoding="utf-8"), catalog)
    board = render.readme_leaderboard(catalog, load_results(RESULT_FILES))
    readme = render.splice(readme, render.BOARD_START, render.BOARD_END, board)
    from .parity import load_data
    from .verification import PARITY_END, PARITY_START, readme_counts

    out = {README: render.splice(readme, PARITY_START, PARITY_END, readme_counts(catalog, load_data()))}
    for path, lang in ((ROOT / "CONTRIBUTING.md", "en"), (ROOT / "CONTRIBUTING.zh.md", "zh")):
        out[path] = render.splice_fields(path.read_text(encoding="utf-8"), schema, lang)
    return out


def cmd_readme(args: argparse.Namespace) -> int:
    """Regenerate the awesome list in README.md and the field reference in CONTRIBUTING(.zh).md.

    Each is written between its two marker comments; nothing else in those files changes.

    Options:
        --check   write nothing; exit 1 when a file differs from what the catalogue and schema generate
    """
    catalog = _load_or_report(args.catalog)
    if catalog is None:
        return 1
    try:
        expected = _generated_docs(catalog)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    stale = [p for p, text in expected.items() if p.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"{path.name} is stale: run `python -m scripts readme`", file=sys.stderr)
        if not stale:
            print("README.md and CONTRIBUTING files are up to date")
        return 1 if stale else 0
    for path, text in expected.items():
        print(f"{path.name} " + ("updated" if write_if_changed(path, text) else "unchanged"))
    return 0


def cmd_pages(args: argparse.Namespace) -> int:
    """Write the generated pages (en and zh) under docs/catalog/, touching only changed files."""
    catalog = _load_or_report(args.catalog)
    if catalog is None:
        return 1
    written, removed = generate(catalog)
    print(f"{written} page(s) written, {removed} removed")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Validate the catalogue, then build the site strictly into site/ (swapped in only when the build passes).

    Options:
        --serve          after building, serve the site with live reload on 127.0.0.1:8000
        --port PORT      port for --serve (default 8000)
        --no-strict      let MkDocs warnings pass (default: strict)
        --force          rebuild even when no input changed since the last build
    """
    start = time.perf_counter()
    digest = inputs_digest()
    if not (args.serve or args.force) and is_up_to_date(SITE_DIR, digest):  # the inputs of a build that passed: valid
        print(
            f"site is up to date ({time.perf_counter() - start:.1f} s): nothing changed since the last build; --force rebuilds"
        )
        return 0
    if _load_or_report(args.catalog) is None:
        return 1
    if args.serve:
        import subprocess

        return subprocess.call(
            [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{args.port}"], cwd=ROOT
        )
    try:
        mkdocs_build(SITE_DIR, strict=not args.no_strict, digest=digest)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"site built in {time.perf_counter() - start:.1f} s: {SITE_DIR}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write catalog.bib (BibTeX) and catalog.json into a folder.

    Options:
        --out DIR   destination folder (default: build/)
    """
    catalog = _load_or_report(args.catalog)
    if catalog is None:
        return 1
    for name, content in (
        ("catalog.bib", render.bibtex(catalog)),
        ("catalog.json", render.catalog_json(catalog)),
    ):
        write_if_changed(args.out / name, content)
        print(args.out / name)
    return 0


def cmd_links(args: argparse.Namespace) -> int:
    """Check links with lychee and report each broken one with its entry file and field (or site page).

    Offline (default; what CI runs, no network): every internal link and #fragment of the built site in
    both languages, plus the syntax of every external URL in the catalogue and the site.
    Online (--online): requests every catalogue URL with retries, a cache and the exclusions of
    lychee.toml. A timeout or a persisting 429 is reported as transient and does not fail the command.

    Options:
        --online          make real requests for the catalogue's URLs
        --changed FILE    with --online: only the URLs of these entry files (pull requests)
        --site DIR        the built site to check offline (default: site/; build it with ./dev site)
    """
    from urllib.parse import urlsplit

    from . import links

    catalog = _load_or_report(args.catalog)
    if catalog is None:
        return 1
    start = time.perf_counter()
    sources = links.catalog_urls(catalog)
    if args.online:
        if args.changed:
            wanted = {Path(f).resolve() for f in args.changed}
            sources = [s for s in sources if (ROOT / s.path).resolve() in wanted]
        problems = links.check_online(sources)
    else:
        if not (args.site / "index.html").exists():
            print(f"{args.site}: no built site here; run ./dev site first", file=sys.stderr)
            return 1
        external = [(s.url, f"{s.path}: {s.field}") for s in sources] + links.site_external_urls(args.site)
        prefix = urlsplit(_site_url()).path.strip("/")
        problems = links.syntax_problems(external) + links.check_site_offline(args.site, prefix)
    for problem in problems:
        print(problem, file=sys.stderr if not problem.transient else sys.stdout)
    broken = [p for p in problems if not p.transient]
    mode = "online" if args.online else "offline"
    print(
        f"{mode} link check: {len(sources)} catalogue URLs, {len(broken)} broken, "
        f"{len(problems) - len(broken)} transient, {time.perf_counter() - start:.2f} s"
    )
    return 1 if broken else 0


def cmd_new(args: argparse.Namespace) -> int:
    """Create catalog/papers/<id>.yaml from a BibTeX entry or an arXiv id, then list what is left to write.

    Title, authors, year, venue (from booktitle/journal or arXiv's journal_ref), arXiv id (from eprint or
    URL) and links are filled in; category, idea and summary (en and zh) are TODO placeholders that the
    validator reports until they are written.

    Options:
        --bibtex FILE     a file holding one BibTeX entry ('-' reads standard input)
        --arxiv ID        an arXiv id, e.g. 1709.01507 (queries the arXiv API)
        --id ID           the entry id (default: the acronym before the title's colon, else family name + year)
        --category ID     fill the category
        --api-url URL     arXiv API endpoint (default: https://export.arxiv.org/api/query)
    """
    from . import new_entry

    try:
        if args.bibtex:
            source = sys.stdin.read() if args.bibtex == "-" else Path(args.bibtex).read_text(encoding="utf-8")
            entry = new_entry.from_bibtex(source)
        else:
            entry = new_entry.from_arxiv(args.arxiv, api_url=args.api_url)
    except (new_entry.SourceError, OSError) as exc:
        print(f"new: {exc}", file=sys.stderr)
        return 1
    if args.id:
        entry["id"] = args.id
    if args.category:
        entry["category"] = args.category
    try:
        path = new_entry.write_entry(entry, args.catalog / "papers")
    except FileExistsError as exc:
        print(f"new: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}; still to write:")
    _, problems = load(args.catalog)
    for problem in problems:
        if problem.path.endswith(path.name):
            print(f"  {problem}")
    return 0


def cmd_diagrams(args: argparse.Namespace) -> int:
    """Draw the data-flow diagram of every registered module into a cache folder (SVG, one per id).

    Only diagrams whose inputs changed are redrawn (module source, shared helpers, default configuration,
    example input shapes, the diagram code); a module that cannot be traced gets a box saying why.

    Options:
        --only ID [ID ...]   draw only these module ids (default: all registered modules)
        --out DIR            the cache folder (default: figures/diagrams/)
    """
    from . import diagram

    return diagram.command_diagrams(args)


def cmd_costs(args: argparse.Namespace) -> int:
    """Measure every registered module's costs into docs/data/costs.json.

    Parameters, FLOPs and MACs (recomputed and compared by the tests), CPU latency (median, forward and
    forward+backward) and peak memory at the standard inputs, and FLOPs and latency as resolution grows,
    with the machine, threads, torch version and date.

    Options:
        --only ID [ID ...]   measure only these ids, keeping the other entries of the file
        --out FILE           the data file (default: docs/data/costs.json)
        --threads N          torch CPU threads while timing (default: 1)
    """
    from . import costs

    return costs.command_costs(args)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Train a CIFAR-style ResNet-18/50 with a registry module inserted and write a JSON record per module.

    Data: scikit-learn's bundled digits resized to 32x32 (default; no download) or CIFAR-10 from a local
    folder in its python-pickle format (--data cifar10 --data-dir DIR). SGD with momentum and a cosine
    schedule, seeded; mixed precision and channels_last on a GPU; torchrun runs it data-parallel.
    `python -m scripts evaluate --help` lists every option with its default.
    """
    from . import evaluate

    return evaluate.command_evaluate(args)


def cmd_parity(args: argparse.Namespace) -> int:
    """Record parity fixtures from an official checkout, or print every module's parity verdict.
    `python -m scripts parity --help` is the full manual.
    """
    from . import parity

    return parity.command_parity(args)


def cmd_attention_maps(args: argparse.Namespace) -> int:
    """Capture the spatial attention maps of modules with forward hooks (no change to their math) and
    overlay them on a sample image shipped with scikit-image; writes PNG/SVG figures and a gallery.
    `python -m scripts attention-maps --help` lists every option with its default.
    """
    from . import attention_maps

    return attention_maps.command_attention_maps(args)


def cmd_compile_check(args: argparse.Namespace) -> int:
    """Run every module (or the given ids) under torch.compile(fullgraph=True) and compare it with eager:
    the graph-break check (dynamo, eager backend; --inductor: compiled end to end). Exits 1 on any failure.
    `python -m scripts compile-check --help` lists every option.
    """
    from . import compile_check

    return compile_check.command_compile_check(args)


BENCH_ENVS = {"fightingcv": ROOT / ".bench" / "fightingcv", "timm": ROOT / ".bench" / "timm"}
BENCH_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(4 << 30)}
"""glibc's allocator settings of a bench run (a variable already set in the caller's environment wins). By default a
freed block of more than a few MB goes back to the system, and the next pass faults its pages in again: a tenth to
a half of a pass over 8x64x56x56, and so erratic that the same module's cells spread from 0.7 to 1.6 of the same
peer. With the largest mmap threshold (32 MiB) and no trimming, freed tensors are reused, as in a training loop
with PyTorch's caching allocators. Both sides of a cell always run in one process under the same settings; each
run records them."""
BENCH_SIZES = ("8x64x56x56", "8x256x28x28", "32x512x14x14")


def bench_command(args: argparse.Namespace) -> str:
    """The full command line of a bench run (every option spelled out), as recorded in the results."""
    import shlex

    parts = ["./dev", "bench", "--sizes", *args.sizes, "--threads", *map(str, args.threads)]
    parts += ["--repeats", str(args.repeats), "--warmup", str(args.warmup)]
    parts += [
        "--max-memory-gb",
        f"{args.max_memory_gb:g}",
        "--max-cell-seconds",
        f"{args.max_cell_seconds:g}",
    ]
    parts += ["--compile-fastest", str(args.compile_fastest), "--envs", *args.envs]
    if args.only:
        parts += ["--only", *args.only]
    if args.out.resolve() != (ROOT / "docs" / "data" / "bench.json").resolve():
        parts += ["--out", str(args.out)]
    return " ".join(shlex.quote(p) for p in parts)


def cmd_bench(args: argparse.Namespace) -> int:
    """Time forward + backward of cvattn modules against the same mechanism in timm and fightingcv-attention
    (the benchmark matrix), and merge the results into docs/data/bench.json.

    Every pair of scripts/bench_pairs.py runs at every input size and thread count, timed interleaved (ours and
    the peer alternate within each repeat; medians of the repeats). Each environment under .bench/ (created by
    `./dev bench`) runs its pairs in one process with one torch: fightingcv-attention beside torch 2.13.0, timm
    (and the fightingcv modules that import timm) beside torch 2.14.1 and torchvision 0.29.1. Results are
    written after every pair, atomically; a partial run (--only, --sizes, --threads) replaces only the cells
    it measured and keeps everything else. The file records the machine, the versions of each environment,
    the date and this command; the site's Benchmarks page is generated from it.

    Options:
        --only ID...              only the pairs of these module ids (default: every pair)
        --sizes NxCxHxW...        input sizes (default: 8x64x56x56 8x256x28x28 32x512x14x14)
        --threads N...            torch thread counts (default: 1 2)
        --repeats N               timed repeats per cell; the median is reported (default 15)
        --warmup N                untimed rounds before the repeats (default 3)
        --max-memory-gb GB        skip a cell whose forward would save more activations for backward (default 6)
        --max-cell-seconds S      time budget of a cell: slow cells run fewer repeats, at least 3 (default 60)
        --compile-fastest K       also time the K fastest modules of each environment compiled with
                                  torch.compile, both sides (default 0: none)
        --envs NAME...            environments to run (default: fightingcv timm)
        --out FILE                results file (default: docs/data/bench.json)
    """
    import subprocess

    command = bench_command(args)
    ran = False
    for env in args.envs:
        python = BENCH_ENVS[env] / "bin" / "python"
        if not python.exists():
            print(f"bench: {BENCH_ENVS[env]} is missing; run ./dev bench to create it", file=sys.stderr)
            return 1
        print(f"== {env} ({python})", flush=True)
        cmd = [str(python), "-m", "scripts.bench", "--env", env, "--out", str(args.out), "--command", command]
        cmd += ["--sizes", *args.sizes, "--threads", *map(str, args.threads), "--repeats", str(args.repeats)]
        cmd += ["--warmup", str(args.warmup), "--max-memory-gb", str(args.max_memory_gb)]
        cmd += [
            "--max-cell-seconds",
            str(args.max_cell_seconds),
            "--compile-fastest",
            str(args.compile_fastest),
        ]
        if args.only:
            cmd += ["--only", *args.only]
        if subprocess.call(cmd, cwd=ROOT, env={**BENCH_ALLOCATOR, **os.environ}) != 0:
            return 1
        ran = True
    if ran:
        from .bench_page import load_bench, terminal_summary

        print(terminal_summary(load_bench(args.out)))
    return 0 if ran else 1


def _site_url() -> str:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)  # ignore !!python/... tags
    return (yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader) or {}).get(
        "site_url", ""
    )


COMMANDS = {
    "validate": cmd_validate,
    "schema": cmd_schema,
    "readme": cmd_readme,
    "pages": cmd_pages,
    "build": cmd_build,
    "export": cmd_export,
    "links": cmd_links,
    "new": cmd_new,
    "bench": cmd_bench,
    "diagrams": cmd_diagrams,
    "costs": cmd_costs,
    "evaluate": cmd_evaluate,
    "attention-maps": cmd_attention_maps,
    "parity": cmd_parity,
    "compile-check": cmd_compile_check,
}


TOOL_MODULES = {
    "diagrams": "diagram",
    "costs": "costs",
    "evaluate": "evaluate",
    "attention-maps": "attention_maps",
    "parity": "parity",
    "compile-check": "compile_check",
}


def parser(selected: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m scripts", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = p.add_subparsers(dest="command", required=True)
    for name, fn in COMMANDS.items():
        s = sub.add_parser(
            name,
            help=fn.__doc__.splitlines()[0],
            description=fn.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        s.add_argument(
            "--catalog", type=Path, default=CATALOG_DIR, help="catalogue folder (default: catalog/)"
        )
        if name in ("schema", "readme"):
            s.add_argument("--check", action="store_true", help="write nothing; fail when stale")
        if name == "build":
            s.add_argument("--serve", action="store_true", help="serve with live reload on 127.0.0.1")
            s.add_argument("--port", type=int, default=8000)
            s.add_argument("--no-strict", action="store_true")
            s.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
        if name == "links":
            s.add_argument("--online", action="store_true")
            s.add_argument("--changed", nargs="*", default=[], metavar="FILE")
            s.add_argument("--site", type=Path, default=SITE_DIR)
        if name == "new":
            source = s.add_mutually_exclusive_group(required=True)
            source.add_argument("--bibtex", metavar="FILE")
            source.add_argument("--arxiv", metavar="ID")
            s.add_argument("--id")
            s.add_argument("--category")
            s.add_argument("--api-url", default="https://export.arxiv.org/api/query")
        if name == "bench":
            s.add_argument("--only", nargs="*", default=None, metavar="ID")
            s.add_argument("--sizes", nargs="+", default=list(BENCH_SIZES), metavar="NxCxHxW")
            s.add_argument("--threads", nargs="+", type=int, default=[1, 2], metavar="N")
            s.add_argument("--repeats", type=int, default=15)
            s.add_argument("--warmup", type=int, default=3)
            s.add_argument("--max-memory-gb", type=float, default=6.0)
            s.add_argument("--max-cell-seconds", type=float, default=60.0)
            s.add_argument("--compile-fastest", type=int, default=0, metavar="K")
            s.add_argument("--envs", nargs="+", choices=list(BENCH_ENVS), default=list(BENCH_ENVS))
            s.add_argument("--out", type=Path, default=ROOT / "docs" / "data" / "bench.json")
        if name in TOOL_MODULES and name == selected:  # their options live with the tools (they import torch)
            import importlib

            tool = importlib.import_module(f".{TOOL_MODULES[name]}", __package__)
            tool.add_arguments(s)
            s.description = getattr(tool, f"command_{name.replace('-', '_')}").__doc__  # the full manual
        if name == "export":
            s.add_argument("--out", type=Path, default=ROOT / "build")
        s.set_defaults(func=fn)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(selected=next((a for a in argv if not a.startswith("-")), None)).parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
