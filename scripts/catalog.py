"""The catalogue: typed model, the one loader of catalogue files, and the cross-file checks.

Every other tool takes the :class:`Catalog` this module returns; nothing else reads ``catalog/``.
Problems are collected, never printed here: the command-line entry prints them all at once.
"""

from __future__ import annotations

import datetime
import difflib
import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

ROOT = Path(__file__).resolve().parent.parent
# CVATTN_CATALOG points the tools and the site build at another catalogue folder (tests use it).
CATALOG_DIR = Path(os.environ.get("CVATTN_CATALOG", ROOT / "catalog")).resolve()
SCHEMA_LINE = "# yaml-language-server: $schema=../schema.json"
FIRST_YEAR = 1990
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TAG = r"^[a-z0-9]+(?:[ -][a-z0-9]+)*$"  # lowercase words joined by spaces or hyphens
TAGS_FILE = "tags.yaml"
METRICS_FILE = "metrics.yaml"


def _check_url(value: str) -> str:
    if value.lstrip().startswith("TODO"):
        raise ValueError(f"placeholder {value.strip()[:60]!r} left by `scripts new`: write it")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


def _strip_nonempty(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    if value.lstrip().startswith("TODO"):
        raise ValueError(f"placeholder {value.strip()[:60]!r} left by `scripts new`: write it")
    return value.strip()


Url = Annotated[
    str, AfterValidator(_check_url), Field(json_schema_extra={"format": "uri", "pattern": "^https?://"})
]
Text = Annotated[str, AfterValidator(_strip_nonempty), Field(min_length=1)]

# Superscripts a title may hold as characters (A²-Nets, BA²M); BibTeX gets them back as $^{2}$.
SUPERSCRIPTS = dict(zip("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ", strict=True))


def _check_title(value: str) -> str:
    if "^" in value:
        raise ValueError(
            f"a caret shows literally on the site: {value!r}; write the superscript as a character "
            f"({', '.join(SUPERSCRIPTS.values())}), e.g. A²-Nets (BibTeX writes it as A$^{{2}}$)"
        )
    return value


Title = Annotated[Text, AfterValidator(_check_title)]

# CJK ideographs, kana, CJK and full-width punctuation: Chinese is written without spaces between them
_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])\\s+(?=[{_CJK}])")


def _join_cjk_lines(value: str) -> str:
    """Drop the spaces that YAML's folded style (``>-``) puts where a Chinese text was broken across lines:
    between two CJK characters a line break means nothing. Spaces beside Latin words and digits stay."""
    return _SPACE_BETWEEN_CJK.sub("", value)


ChineseText = Annotated[Text, AfterValidator(_join_cjk_lines)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Strict):
    """A text in English and Chinese."""

    en: Text = Field(description="English text")
    zh: ChineseText = Field(
        description="Chinese text (written, not machine-translated); line breaks between Chinese characters "
        "are dropped, so a folded block (>-) may break lines anywhere"
    )


class Implementation(_Strict):
    url: Url = Field(description="repository URL")
    note: Text = Field(description="what it is, e.g. 'PyTorch re-implementation'")


# Words that name a blog site rather than a post: a title made of one of them is a label, not a title.
BLOG_SITE_WORDS = {"zhihu", "知乎", "wechat", "weixin", "微信", "微信公众号", "blog", "博客", "other"}


class Blog(_Strict):
    url: Url = Field(description="the post's URL")
    lang: Literal["en", "zh"] = Field(description="language of the post")
    site: Literal["zhihu", "wechat", "other"] = Field("other", description="where the post is published")
    title: Text | None = Field(
        None,
        description="the post's title, as the post writes it; omit only when it cannot be found (the site then "
        "names the site and language)",
    )

    @model_validator(mode="after")
    def _title_is_not_the_site(self) -> Blog:
        if self.title is not None and self.title.strip().lower() in BLOG_SITE_WORDS:
            raise ValueError(
                f"title {self.title!r} only names the site; write the post's own title, or omit it"
            )
        return self


class Links(_Strict):
    paper: Url = Field(description="official proceedings or journal page; the arXiv page when there is none")
    arxiv: Annotated[str, Field(pattern=r"^\d{4}\.\d{4,5}$")] | None = Field(
        None, description='arXiv id without version, quoted: "1709.01507"'
    )
    code: Url | None = Field(None, description="the authors' official repository; omit when there is none")
    implementations: list[Implementation] = Field(default_factory=list, description="other notable code")
    blogs: list[Blog] = Field(default_factory=list, description="posts explaining the paper")


class Result(_Strict):
    """A result reported by the paper (or by a cited list), with where it comes from."""

    dataset: Text = Field(description="a data set from catalog/metrics.yaml, e.g. ImageNet, COCO, Cityscapes")
    model: Text = Field(description="the network measured, e.g. SE-ResNet-50")
    metric: Text = Field(
        description="a metric from catalog/metrics.yaml, e.g. 'top-1 accuracy', 'mIoU', 'AP'"
    )
    value: float = Field(description="the number, in the metric's unit (percent for accuracy)")
    params: float | None = Field(None, description="parameters in millions")
    gflops: float | None = Field(None, description="GFLOPs as reported")
    source: Text = Field(description="table of the paper and setting")
    source_url: Url | None = Field(
        None, description="where the number can be read, when not the paper itself"
    )


class Paper(_Strict):
    """One catalogue entry: a paper and the modules that implement it."""

    id: Annotated[str, Field(pattern=SLUG, description="slug; equals the file name")]
    title: Title = Field(
        description="the published title, as the paper writes it; superscripts as characters (A²-Nets), not carets"
    )
    authors: list[Text] = Field(
        min_length=1, description="every author, in the paper's order, 'Given Family'"
    )
    venue: Text = Field(description="venue id from catalog/venues.yaml")
    year: int = Field(ge=FIRST_YEAR, description="year of the venue (1990 to next year)")
    category: Text = Field(description="category id from catalog/categories.yaml")
    tags: list[Text] = Field(
        default_factory=list,
        description="a few tags from catalog/tags.yaml; a new tag goes there first, with its Chinese form",
    )
    links: Links = Field(description="where the paper, its code and posts about it are")
    idea: Bilingual = Field(description="one line")
    summary: Bilingual = Field(description="two to four sentences")
    modules: list[Annotated[str, Field(pattern=SLUG)]] = Field(
        default_factory=list, description="cvattn registry ids that implement it"
    )
    module_note: Bilingual | None = Field(
        default=None,
        description="only for an entry without modules: why it has none (shown on its page), e.g. what could "
        "not be verified",
    )
    parity_note: dict[Annotated[str, Field(pattern=SLUG)], Bilingual] | None = Field(
        default=None,
        description="for an entry with official code: why a module has no parity fixture (tests/parity/), by "
        "module id, e.g. the official code is Caffe or needs a CUDA kernel; shown on the Verification page",
    )
    results: list[Result] = Field(
        default_factory=list, description="results the paper reports, with their table"
    )


class Category(_Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    name: Bilingual
    description: Bilingual


class Venue(_Strict):
    id: Annotated[str, Field(pattern=SLUG)]
    name: Text
    full: Text
    kind: Literal["conference", "workshop", "journal", "preprint"]


class Term(_Strict):
    """A word of a controlled vocabulary (a tag, a metric, a data set) and the form Chinese pages show."""

    en: str
    zh: str


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the catalogue, printable as ``path:line: field: problem (hint)``."""

    path: str
    line: int
    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.path}:{self.line}: {self.field}: {self.message}{hint}"


@dataclass(frozen=True)
class Catalog:
    papers: tuple[Paper, ...]
    categories: tuple[Category, ...]
    venues: tuple[Venue, ...]
    tags: tuple[Term, ...] = ()  # catalog/tags.yaml
    metrics: tuple[Term, ...] = ()  # catalog/metrics.yaml
    datasets: tuple[Term, ...] = ()

    @cached_property
    def _zh(self) -> dict[str, dict[str, str]]:
        return {kind: {t.en: t.zh for t in getattr(self, kind)} for kind in ("tags", "metrics", "datasets")}

    def tag_label(self, tag: str, lang: str) -> str:
        """How a page in ``lang`` writes a tag: its Chinese form on Chinese pages, the tag itself otherwise."""
        return self._zh["tags"].get(tag, tag) if lang == "zh" else tag

    def metric_label(self, metric: str, lang: str) -> str:
        """How a page in ``lang`` writes a result's metric (``top-1 accuracy`` is ``top-1 准确率`` in Chinese)."""
        return self._zh["metrics"].get(metric, metric) if lang == "zh" else metric

    def dataset_label(self, dataset: str, lang: str) -> str:
        """How a page in ``lang`` writes a result's data set."""
        return self._zh["datasets"].get(dataset, dataset) if lang == "zh" else dataset

    @property
    def by_id(self) -> dict[str, Paper]:
        return {p.id: p for p in self.papers}

    @property
    def category_by_id(self) -> dict[str, Category]:
        return {c.id: c for c in self.categories}

    @property
    def venue_by_id(self) -> dict[str, Venue]:
        return {v.id: v for v in self.venues}

    def in_category(self, category: str) -> list[Paper]:
        return [p for p in self.papers if p.category == category]

    def paper_of_module(self, module_id: str) -> Paper | None:
        return next((p for p in self.papers if module_id in p.modules), None)


class CatalogError(Exception):
    """The catalogue is invalid; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the catalogue:\n" + "\n".join(map(str, problems)))


# --------------------------------------------------------------------------- reading YAML with lines


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the node at ``loc`` (keys and list indices) in a composed YAML tree; the nearest
    existing ancestor when the location does not exist (a missing field)."""
    line = node.start_mark.line + 1 if node is not None else 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            key_node = next((k for k, v in node.value if k.value == key), None)
            if match is None:
                return line
            node, line = match, key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _read_yaml(path: Path, problems: list[Problem]) -> tuple[Any, yaml.Node | None]:
    text = path.read_text(encoding="utf-8")
    # one parse (libyaml when PyYAML has it) gives the node tree, for line numbers, and the data built from it
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problems.append(
            Problem(
                _rel(path),
                line,
                "(file)",
                f"unparsable YAML: {getattr(exc, 'problem', exc)}",
                "check indentation and quoting around that line",
            )
        )
        return None, None
    finally:
        loader.dispose()
    return data, node


_HINTS = {
    "missing": "add this field",
    "extra_forbidden": "unknown field; check the spelling against catalog/schema.json",
    "string_pattern_mismatch": "",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "float_parsing": "write a number",
    "string_type": "write text (quote it if it looks like a number or date)",
    "list_type": "write a YAML list",
    "model_type": "write a mapping of fields",
    "literal_error": "",
    "greater_than_equal": "",
    "too_short": "",
}


def _problems_from_validation(exc: ValidationError, path: Path, node: yaml.Node | None) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        field = ".".join(str(p) for p in loc) or "(entry)"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "missing required field"
        out.append(Problem(_rel(path), _line_of(node, loc), field, message, _HINTS.get(err["type"], "")))
    return out


def _load_list(path: Path, model: type[BaseModel], problems: list[Problem]) -> list[Any]:
    if not path.exists():
        problems.append(Problem(_rel(path), 1, "(file)", "file is missing", "restore it from git"))
        return []
    data, node = _read_yaml(path, problems)
    if data is None:
        return []
    if not isinstance(data, list):
        problems.append(Problem(_rel(path), 1, "(file)", "expected a YAML list of items", ""))
        return []
    items = []
    for i, raw in enumerate(data):
        try:
            items.append(model.model_validate(raw))
        except ValidationError as exc:
            for p in _problems_from_validation(exc, path, _sub_node(node, i)):
                problems.append(Problem(p.path, p.line, f"[{i}].{p.field}", p.message, p.hint))
    return items


def _sub_node(node: yaml.Node | None, index: int) -> yaml.Node | None:
    return node.value[index] if isinstance(node, yaml.SequenceNode) and index < len(node.value) else None


# --------------------------------------------------------------------------- controlled vocabularies

VOCABULARIES = {"tags": TAGS_FILE, "metrics": METRICS_FILE, "datasets": METRICS_FILE}
_STR = "tag:yaml.org,2002:str"


def variant_key(term: str) -> str:
    """What the spellings of one term share once case, hyphens, spaces and a plural ending are dropped:
    ``Skip-Connections`` and ``skip connection`` give the same key."""
    words = re.split(r"[\s-]+", term.lower().strip())
    out = []
    for word in words:
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            word = word[:-1]
        out.append(word)
    return "".join(out)


def _read_terms(
    node: yaml.Node | None, path: Path, section: str, problems: list[Problem], *, tags: bool
) -> tuple[Term, ...]:
    """The ``term: Chinese form`` pairs of one mapping node, checked: text on both sides, no term twice, no
    two spellings of one term, no Chinese form shared by two terms; tags also lowercase and translated."""
    rel, prefix = _rel(path), f"{section}." if section else ""
    if not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else 1
        problems.append(
            Problem(
                rel,
                line,
                section or "(file)",
                "expected a mapping of `term: Chinese form`",
                f"see the comment at the top of {path.name}",
            )
        )
        return ()
    terms: list[Term] = []
    line_of: dict[str, int] = {}
    by_variant: dict[str, str] = {}
    by_zh: dict[str, str] = {}
    for key, value in node.value:
        line = key.start_mark.line + 1
        if not (isinstance(key, yaml.ScalarNode) and key.tag == _STR and key.value.strip()):
            problems.append(
                Problem(
                    rel, line, f"{prefix}{getattr(key, 'value', '?')}", "the term is not text", "quote it"
                )
            )
            continue
        en, field = key.value, f"{prefix}{key.value}"
        if not (isinstance(value, yaml.ScalarNode) and value.tag == _STR and value.value.strip()):
            problems.append(
                Problem(rel, line, field, "has no Chinese form", f"write `{en}: <the Chinese term>`")
            )
            continue
        zh = value.value.strip()
        if en in line_of:
            problems.append(
                Problem(rel, line, field, f"listed twice (also on line {line_of[en]})", "keep one of them")
            )
            continue
        line_of[en] = line
        if tags and not re.fullmatch(TAG, en):
            problems.append(
                Problem(
                    rel,
                    line,
                    field,
                    f"{en!r} is not a tag",
                    "write lowercase words separated by single spaces or hyphens",
                )
            )
        if tags and zh == en:
            problems.append(
                Problem(
                    rel,
                    line,
                    field,
                    "the Chinese form is the English tag itself",
                    "write the term a Chinese paper uses, or an acronym as it is written (aspp: ASPP)",
                )
            )
        other = by_variant.setdefault(variant_key(en), en)
        if other != en:
            problems.append(
                Problem(
                    rel,
                    line,
                    field,
                    f"another spelling of {other!r} (case, hyphens or plural)",
                    "keep one and rewrite the entries that use the other",
                )
            )
        other = by_zh.setdefault(zh, en)
        if other != en:
            problems.append(
                Problem(
                    rel,
                    line,
                    field,
                    f"same Chinese form {zh!r} as {other!r}",
                    "two terms that read the same in Chinese are one: merge them, or tell them apart",
                )
            )
        terms.append(Term(en=en, zh=zh))
    return tuple(terms)


def load_vocabularies(root: Path, problems: list[Problem]) -> dict[str, tuple[Term, ...] | None]:
    """The tags (``tags.yaml``), metrics and data sets (``metrics.yaml``) entries may use; a vocabulary is
    ``None`` when its file is missing or unreadable (the problem is reported, entries are not checked)."""
    out: dict[str, tuple[Term, ...] | None] = dict.fromkeys(VOCABULARIES)
    for name, sections in ((TAGS_FILE, ("",)), (METRICS_FILE, ("metrics", "datasets"))):
        path = root / name
        if not path.exists():
            problems.append(Problem(_rel(path), 1, "(file)", "file is missing", "restore it from git"))
            continue
        data, node = _read_yaml(path, problems)
        if node is None:
            continue
        for section in sections:
            kind = section or "tags"
            if section:
                if not isinstance(node, yaml.MappingNode) or section not in {k.value for k, _ in node.value}:
                    problems.append(
                        Problem(
                            _rel(path),
                            1,
                            section,
                            "missing section",
                            f"write `{section}:` followed by its `term: Chinese form` lines",
                        )
                    )
                    continue
                sub = next(v for k, v in node.value if k.value == section)
            else:
                sub = node
            out[kind] = _read_terms(sub, path, section, problems, tags=kind == "tags")
        if isinstance(node, yaml.MappingNode) and len(sections) > 1:
            for key, _ in node.value:
                if key.value not in sections:
                    problems.append(
                        Problem(
                            _rel(path),
                            key.start_mark.line + 1,
                            str(key.value),
                            "unknown section",
                            f"use {' or '.join(sections)}",
                        )
                    )
    return out


def _unknown_hint(value: str, known: list[str], where: str) -> str:
    """Which known terms the writer probably meant, and how to add a new one (to ``where``)."""
    spelling = {variant_key(k): k for k in known}.get(variant_key(value))
    if spelling is not None:
        return f"write {spelling!r}, the one spelling the catalogue uses for this term"
    lower = {k.lower(): k for k in known}
    close = [lower[k] for k in difflib.get_close_matches(value.lower(), list(lower), n=3, cutoff=0.6)]
    add = f"add it to {where} with its Chinese form, as CONTRIBUTING.md says"
    if close:
        return "closest known: " + ", ".join(map(repr, close)) + f"; or {add}"
    return f"no known term is close; {add}"


def check_vocabulary(
    papers: list[tuple[Paper, Path, yaml.Node | None]], vocabularies: dict[str, tuple[Term, ...] | None]
) -> list[Problem]:
    """Every tag of an entry is in catalog/tags.yaml, once; every result's metric and data set is in
    catalog/metrics.yaml. A vocabulary that could not be read is not checked against."""
    problems = []
    known = {kind: [t.en for t in terms] for kind, terms in vocabularies.items() if terms is not None}
    for paper, path, node in papers:
        if "tags" in known:
            seen: set[str] = set()
            for i, tag in enumerate(paper.tags):
                where = _line_of(node, ("tags", i))
                if tag in seen:
                    problems.append(
                        Problem(_rel(path), where, f"tags.{i}", f"tag {tag!r} listed twice", "remove one")
                    )
                seen.add(tag)
                if tag not in known["tags"]:
                    problems.append(
                        Problem(
                            _rel(path),
                            where,
                            f"tags.{i}",
                            f"unknown tag {tag!r}",
                            _unknown_hint(tag, known["tags"], f"catalog/{TAGS_FILE}"),
                        )
                    )
        for i, result in enumerate(paper.results):
            for kind, field, value in (
                ("metrics", "metric", result.metric),
                ("datasets", "dataset", result.dataset),
            ):
                if kind in known and value not in known[kind]:
                    problems.append(
                        Problem(
                            _rel(path),
                            _line_of(node, ("results", i, field)),
                            f"results.{i}.{field}",
                            f"unknown {field} {value!r}",
                            _unknown_hint(
                                value, known[kind], f"the `{kind}` section of catalog/{METRICS_FILE}"
                            ),
                        )
                    )
    return problems


# --------------------------------------------------------------------------- checks across entries


def _norm_title(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()


def check_identity(papers: list[tuple[Paper, Path, yaml.Node | None]]) -> list[Problem]:
    """No two entries share an id, a title or an arXiv id; every id equals its file name."""
    problems = []
    seen: dict[tuple[str, str], str] = {}
    for paper, path, node in papers:
        if paper.id != path.stem:
            problems.append(
                Problem(
                    _rel(path),
                    _line_of(node, ("id",)),
                    "id",
                    f"id {paper.id!r} differs from the file name {path.stem!r}",
                    f"rename the file to {paper.id}.yaml or change the id",
                )
            )
        for kind, value, field in (
            ("id", paper.id, ("id",)),
            ("title", _norm_title(paper.title), ("title",)),
            ("arXiv id", paper.links.arxiv, ("links", "arxiv")),
        ):
            if value is None:
                continue
            other = seen.setdefault((kind, value), _rel(path))
            if other != _rel(path):
                problems.append(
                    Problem(
                        _rel(path),
                        _line_of(node, field),
                        ".".join(field),
                        f"duplicate {kind}: also used by {other}",
                        "merge the two entries",
                    )
                )
    return problems


def check_references(
    papers: list[tuple[Paper, Path, yaml.Node | None]],
    categories: list[Category],
    venues: list[Venue],
    today: datetime.date | None = None,
) -> list[Problem]:
    """Categories and venues exist; the year lies in FIRST_YEAR..next year."""
    problems = []
    last_year = (today or datetime.date.today()).year + 1
    cat_ids = {c.id for c in categories}
    venue_ids = {v.id for v in venues}
    for paper, path, node in papers:
        if paper.category not in cat_ids:
            problems.append(
                Problem(
                    _rel(path),
                    _line_of(node, ("category",)),
                    "category",
                    f"unknown category {paper.category!r}",
                    f"use one of: {', '.join(sorted(cat_ids))}",
                )
            )
        if paper.venue not in venue_ids:
            problems.append(
                Problem(
                    _rel(path),
                    _line_of(node, ("venue",)),
                    "venue",
                    f"unknown venue {paper.venue!r}",
                    f"use one of: {', '.join(sorted(venue_ids))}, or add it to catalog/venues.yaml",
                )
            )
        if not FIRST_YEAR <= paper.year <= last_year:
            problems.append(
                Problem(
                    _rel(path),
                    _line_of(node, ("year",)),
                    "year",
                    f"year {paper.year} outside {FIRST_YEAR}..{last_year}",
                    "use the publication year",
                )
            )
    return problems


# Proceedings hosts whose landing page has one fixed form; a paper link there must be that page, not the PDF
# or a search page. Each rule: host suffix, the path the landing page has, what to write instead.
_LANDING_PAGES = (
    (
        "openaccess.thecvf.com",
        re.compile(
            r"/content(?:_[A-Za-z]+_\d{4}|/[A-Za-z]+\d{4}W?)(?:/[A-Za-z0-9-]+)?/html/(?:[A-Za-z0-9-]+/)?[^/]+_paper\.html"
        ),
        "the HTML page .../html/<Surname>_<Title>_<CONF>_<year>_paper.html (CVF lists it as the title link)",
    ),
    (
        "ecva.net",
        re.compile(r"/papers/eccv_\d{4}/papers_ECCV/html/[^/]+_paper\.php"),
        "the ECVA page .../papers_ECCV/html/<id>_ECCV_<year>_paper.php, or the Springer chapter",
    ),
    (
        "openreview.net",
        re.compile(r"/forum"),
        "the forum page https://openreview.net/forum?id=<id>",
    ),
)


def check_paper_links(papers: list[tuple[Paper, Path, yaml.Node | None]]) -> list[Problem]:
    """A paper link on CVF open access, ECVA or OpenReview is that site's landing page (the abstract page that
    links the PDF, the supplement and the BibTeX), not a PDF: the PDF URL carries no metadata and moves."""
    problems = []
    for paper, path, node in papers:
        parts = urlsplit(paper.links.paper)
        host = (parts.hostname or "").lower()
        for suffix, form, hint in _LANDING_PAGES:
            if (host == suffix or host.endswith("." + suffix)) and not form.fullmatch(parts.path):
                problems.append(
                    Problem(
                        _rel(path),
                        _line_of(node, ("links", "paper")),
                        "links.paper",
                        f"{paper.links.paper!r} is not the {suffix} landing page",
                        f"link {hint}",
                    )
                )
    return problems


def check_modules(papers: list[tuple[Paper, Path, yaml.Node | None]], registered: list[str]) -> list[Problem]:
    """Every module an entry names is registered; every registered module is named by exactly one entry; only an
    entry without modules has a ``module_note``."""
    problems = []
    known = set(registered)
    cited: dict[str, str] = {}
    for paper, path, node in papers:
        if paper.modules and paper.module_note is not None:
            problems.append(
                Problem(
                    _rel(path),
                    _line_of(node, ("module_note",)),
                    "module_note",
                    "an entry with modules has no reason to explain their absence",
                    "remove module_note",
                )
            )
        for i, module_id in enumerate(paper.modules):
            if module_id not in known:
                problems.append(
                    Problem(
                        _rel(path),
                        _line_of(node, ("modules", i)),
                        f"modules.{i}",
                        f"module {module_id!r} is not registered in cvattn",
                        "check cvattn.list_modules() or implement it",
                    )
                )
            other = cited.setdefault(module_id, _rel(path))
            if other != _rel(path):
                problems.append(
                    Problem(
                        _rel(path),
                        _line_of(node, ("modules", i)),
                        f"modules.{i}",
                        f"module {module_id!r} is also listed by {other}",
                        "list it in one entry",
                    )
                )
    for module_id in sorted(known - set(cited)):
        problems.append(
            Problem(
                "catalog/papers",
                1,
                "modules",
                f"registered module {module_id!r} is named by no entry",
                "add it to the `modules` list of its paper's entry",
            )
        )
    return problems


def check_parity(papers: list[tuple[Paper, Path, yaml.Node | None]], fixtures: set[str]) -> list[Problem]:
    """Every module of an entry with official code has a parity fixture (``tests/parity/fixtures/<id>.pt``) or a
    ``parity_note`` saying why not; a note names a module of the entry that has no fixture."""
    problems = []
    for paper, path, node in papers:
        notes = paper.parity_note or {}
        for module_id in notes:
            where = _line_of(node, ("parity_note", module_id))
            if module_id not in paper.modules:
                problems.append(
                    Problem(
                        _rel(path),
                        where,
                        f"parity_note.{module_id}",
                        "names a module this entry does not list",
                        f"use one of: {', '.join(paper.modules) or '(none)'}",
                    )
                )
            elif module_id in fixtures:
                problems.append(
                    Problem(
                        _rel(path),
                        where,
                        f"parity_note.{module_id}",
                        "the module has a parity fixture, so there is nothing to explain",
                        "remove the note",
                    )
                )
            elif paper.links.code is None:
                problems.append(
                    Problem(
                        _rel(path),
                        where,
                        f"parity_note.{module_id}",
                        "the entry has no official code (links.code)",
                        "remove the note, or add the code link",
                    )
                )
        if paper.links.code is None:
            continue
        for i, module_id in enumerate(paper.modules):
            if module_id not in fixtures and module_id not in notes:
                problems.append(
                    Problem(
                        _rel(path),
                        _line_of(node, ("modules", i)),
                        f"modules.{i}",
                        f"module {module_id!r} has official code but no parity fixture",
                        f"record one (python -m scripts parity record {module_id} --official DIR) or say why not "
                        f"in parity_note.{module_id} (en, zh)",
                    )
                )
    return problems


def check_header(path: Path) -> list[Problem]:
    first = path.read_text(encoding="utf-8").splitlines()[:1]
    if first != [SCHEMA_LINE]:
        return [
            Problem(_rel(path), 1, "(file)", "first line must reference the schema", f"write: {SCHEMA_LINE}")
        ]
    return []


# --------------------------------------------------------------------------- the loader


def registered_modules() -> list[str]:
    from .registry_scan import scan

    return list(scan())


CACHE_DIR = ROOT / ".cache" / "catalog"


def _cache_key(root: Path) -> str:
    """What a default :func:`load` of ``root`` depends on: every file of the folder, the registered module ids,
    the parity fixtures, this file, pydantic's version and today's date (the last valid year)."""
    import hashlib
    from importlib import metadata

    from .parity import fixture_ids

    digest = hashlib.sha256()
    for part in (
        Path(__file__).read_bytes(),
        metadata.version("pydantic").encode(),
        datetime.date.today().isoformat().encode(),
        str(root.resolve()).encode(),
        "\0".join(registered_modules()).encode(),
        "\0".join(sorted(fixture_ids())).encode(),
    ):
        digest.update(part + b"\0")
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def load(
    root: Path = CATALOG_DIR,
    *,
    modules: list[str] | None = None,
    fixtures: set[str] | None = None,
    check_parity_notes: bool = True,
    today: datetime.date | None = None,
) -> tuple[Catalog | None, list[Problem]]:
    """Read and check the whole catalogue under ``root``; see :func:`load_uncached`.

    A build reads the catalogue twice (the ``build`` command validates it, then the MkDocs hook renders it), so
    a valid catalogue loaded with the default arguments is kept in ``.cache/catalog/`` under the digest of
    everything it was checked against (:func:`_cache_key`); ``CVATTN_CATALOG_CACHE=0`` turns that off.
    """
    import pickle
    import tempfile

    cacheable = (
        modules is None and fixtures is None and check_parity_notes and today is None
    ) and os.environ.get("CVATTN_CATALOG_CACHE") != "0"
    if not cacheable:
        return load_uncached(
            root, modules=modules, fixtures=fixtures, check_parity_notes=check_parity_notes, today=today
        )
    key = _cache_key(root)
    path = CACHE_DIR / f"{key}.pickle"
    try:
        catalog = pickle.loads(path.read_bytes())
        if isinstance(catalog, Catalog):
            return catalog, []
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        pass
    catalog, problems = load_uncached(root)
    if catalog is not None:
        try:
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            for old in CACHE_DIR.glob("*.pickle"):  # one catalogue's worth
                old.unlink(missing_ok=True)
            fd, tmp = tempfile.mkstemp(dir=CACHE_DIR, prefix=".catalog.")
            with os.fdopen(fd, "wb") as out:
                pickle.dump(catalog, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only checkout validates every time
    return catalog, problems


def load_uncached(
    root: Path = CATALOG_DIR,
    *,
    modules: list[str] | None = None,
    fixtures: set[str] | None = None,
    check_parity_notes: bool = True,
    today: datetime.date | None = None,
) -> tuple[Catalog | None, list[Problem]]:
    """Read and check the whole catalogue under ``root``.

    Args:
        root: the ``catalog`` folder.
        modules: registered module ids to check entries against; ``None`` imports cvattn to get them.
        fixtures: module ids with a parity fixture; ``None`` lists ``tests/parity/fixtures/``.
        check_parity_notes: check that every module with official code has a fixture or a ``parity_note``
            (``parity status`` turns it off, to list what is missing).
        today: date that sets the last valid year (next year); defaults to today.

    Returns:
        ``(catalog, [])`` when it is valid, ``(None, problems)`` otherwise — every problem at once.
    """
    problems: list[Problem] = []
    categories = _load_list(root / "categories.yaml", Category, problems)
    venues = _load_list(root / "venues.yaml", Venue, problems)
    loaded: list[tuple[Paper, Path, yaml.Node | None]] = []
    paths = sorted((root / "papers").glob("*.yaml"))
    stray = sorted(p for p in (root / "papers").glob("*") if p.suffix != ".yaml")
    problems += [
        Problem(_rel(p), 1, "(file)", "not a .yaml file", "entries are papers/<id>.yaml") for p in stray
    ]
    for path in paths:
        data, node = _read_yaml(path, problems)
        if data is None and node is None:
            continue
        problems += check_header(path)
        if not isinstance(data, dict):
            problems.append(
                Problem(
                    _rel(path), 1, "(entry)", "expected a mapping of fields", "see catalog/papers/se.yaml"
                )
            )
            continue
        try:
            loaded.append((Paper.model_validate(data), path, node))
        except ValidationError as exc:
            problems += _problems_from_validation(exc, path, node)
    problems += check_identity(loaded)
    problems += check_references(loaded, categories, venues, today)
    problems += check_paper_links(loaded)
    vocabularies = load_vocabularies(root, problems)
    problems += check_vocabulary(loaded, vocabularies)
    problems += check_modules(loaded, registered_modules() if modules is None else modules)
    if check_parity_notes:
        if fixtures is None:
            from .parity import fixture_ids

            fixtures = fixture_ids()
        problems += check_parity(loaded, fixtures)
    if problems:
        return None, problems
    papers = tuple(sorted((p for p, _, _ in loaded), key=lambda p: (-p.year, p.title.lower())))
    terms = {kind: terms or () for kind, terms in vocabularies.items()}
    return Catalog(papers, tuple(categories), tuple(venues), **terms), []


def load_or_raise(root: Path = CATALOG_DIR, **kwargs: Any) -> Catalog:
    catalog, problems = load(root, **kwargs)
    if catalog is None:
        raise CatalogError(problems)
    return catalog


# --------------------------------------------------------------------------- schema


def json_schema(
    categories: list[Category] | None = None,
    venues: list[Venue] | None = None,
    vocabularies: dict[str, tuple[Term, ...] | None] | None = None,
) -> dict[str, Any]:
    """JSON Schema of an entry, with the category and venue ids, the tags, metrics and data sets as enums
    for editor completion."""
    schema = Paper.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "cvattn catalogue entry"
    if categories:
        schema["properties"]["category"]["enum"] = [c.id for c in categories]
    if venues:
        schema["properties"]["venue"]["enum"] = [v.id for v in venues]
    vocabularies = vocabularies or {}
    if vocabularies.get("tags"):
        schema["properties"]["tags"]["items"]["enum"] = sorted(t.en for t in vocabularies["tags"])
    result = schema["$defs"]["Result"]["properties"]
    for kind, field in (("metrics", "metric"), ("datasets", "dataset")):
        if vocabularies.get(kind):
            result[field]["enum"] = sorted(t.en for t in vocabularies[kind])
    return schema


def schema_text(root: Path = CATALOG_DIR) -> str:
    problems: list[Problem] = []
    categories = _load_list(root / "categories.yaml", Category, problems)
    venues = _load_list(root / "venues.yaml", Venue, problems)
    vocabularies = load_vocabularies(root, problems)
    if problems:
        raise CatalogError(problems)
    return json.dumps(json_schema(categories, venues, vocabularies), indent=2, ensure_ascii=False) + "\n"
