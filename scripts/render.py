"""Render the catalogue into Markdown: site pages (en and zh), the README list, BibTeX and JSON.

Every function here takes the typed :class:`~scripts.catalog.Catalog` and returns text; writing files is
the caller's job. Entry text is data: it is escaped, so a title holding ``<script>`` or a
``[x](javascript:...)`` link shows as literal text.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from urllib.parse import quote, urlsplit

import bibtexparser
import tomllib
from bibtexparser import model as bib

from .catalog import ROOT, SUPERSCRIPTS, Catalog, Paper
from .registry_scan import CodeInfo

LANGS = ("en", "zh")
GENERATED_DIR = "catalog"  # under docs/; git-ignored
SOURCE_DIR = "source"  # the package's files, copied under GENERATED_DIR for the modules' source links
PACKAGE_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
MAX_NEWEST = 10

LABELS = {
    "en": {
        "all": "All papers",
        "categories": "Categories",
        "by_year": "Papers by year",
        "by_venue": "Papers by venue",
        "paper": "Paper",
        "venue": "Venue",
        "year": "Year",
        "category": "Category",
        "code": "Code",
        "module": "Module",
        "idea": "Main idea",
        "blog": "Blog",
        "summary": "Summary",
        "links": "Links",
        "blogs": "Blogs",
        "citation": "Citation",
        "results": "Reported results",
        "authors": "Authors",
        "official_code": "Official code",
        "implementations": "Other implementations",
        "none": "none",
        "arxiv": "arXiv",
        "paper_page": "Paper",
        "dataset": "Dataset",
        "model": "Model",
        "metric": "Metric",
        "value": "Value",
        "params": "Params (M)",
        "gflops": "GFLOPs",
        "source": "Source",
        "usage": "Usage",
        "get_code": "Get the code",
        "install": (
            "Install the package from a clone of the repository with `pip install .` (PyTorch 2.1 or newer is its only "
            "dependency), or build the wheel and install that: `pip wheel --no-deps -w dist .` then "
            "`pip install dist/cvattn-{version}-py3-none-any.whl`."
        ),
        "constructor": "Constructor",
        "registry_config": '`cvattn.create("{id}")` builds it with {config}; any argument can be overridden.',
        "registry_plain": '`cvattn.create("{id}")` builds it with the defaults above; any argument can be overridden.',
        "source_file": "Source",
        "same_api": 'The same class as `{first}` above, built by `cvattn.create("{id}")` with {config}.',
        "api": "API",
        "module_section": "Module",
        "no_module": "This entry has no module: it is a survey, an analysis or a backbone cited for context.",
        "papers_count": "papers",
        "count": "Papers",
        "newest": "Newest entries",
        "downloads": "Downloads",
        "bib_export": "BibTeX of the whole catalogue",
        "json_export": "the catalogue as JSON",
        "intro_all": "Every paper in the catalogue. Click a column header to sort.",
        "intro_year": "The catalogue by year of publication.",
        "intro_venue": "The catalogue by venue.",
        "in_category": "papers in this category",
        "tags": "Tags",
        "idea_h": "Idea",
        "mechanism": "Mechanism",
        "cost": "Cost",
        "scaling": "How the cost grows with resolution",
        "diagram_alt": "data-flow diagram of",
        "diagram_zoom": "Click to open the diagram full size",
        "input": "Input",
        "params_n": "Parameters",
        "macs": "MACs, conv/matmul",
        "flops": "FLOPs, conv/matmul",
        "flops_ew": "FLOPs, element-wise",
        "flops_total": "FLOPs, total",
        "identity": "0 (identity in eval mode)",
        "moves_data": "0 (it only moves data)",
        "lat_f": "Latency, forward (ms)",
        "lat_fb": "Latency, forward+backward (ms)",
        "mem_f": "Peak memory, forward (MB)",
        "mem_fb": "Peak memory, forward+backward (MB)",
        "cost_note": (
            "Parameters and FLOPs are recomputed by the tests. Conv/matmul FLOPs come from "
            "`torch.utils.flop_counter.FlopCounterMode`: 2 per multiply-add of convolutions and matrix "
            "products (MACs = conv/matmul FLOPs / 2). Element-wise FLOPs count the rest of the arithmetic "
            "per element: 1 per output element of each addition, product, activation or gate, 1 per input "
            "element of a reduction, 5 per element of a softmax, 2 to 7 per element of a normalisation, 1 per "
            "element of every pooling window, bias additions; data movement counts 0. The total is their sum. "
            "Latency is the median of repeated CPU runs and peak memory is the largest amount of "
            "tensor memory held during the pass"
        ),
        "measured_on": "measured on",
        "threads": "thread(s)",
        "no_costs": "Not measured yet: run `python -m scripts costs`.",
        "modules": "Modules",
        "modules_intro": (
            "Every module of the `cvattn` package, with its cost at the standard "
            "input. Click a column header to sort."
        ),
        "kind": "Kind",
        "std_input": "Standard input",
        "chart": "Cost of the attention modules at 1×64×56×56",
        "chart_alt": "bar chart of the FLOPs (total and conv/matmul) and latency of every attention module",
    },
    "zh": {
        "all": "全部论文",
        "categories": "分类",
        "by_year": "按年份浏览",
        "by_venue": "按会议/期刊浏览",
        "paper": "论文",
        "venue": "发表于",
        "year": "年份",
        "category": "类别",
        "code": "代码",
        "module": "模块",
        "idea": "核心思想",
        "blog": "解读",
        "summary": "概述",
        "links": "链接",
        "blogs": "解读文章",
        "citation": "引用",
        "results": "论文报告的结果",
        "authors": "作者",
        "official_code": "官方代码",
        "implementations": "其他实现",
        "none": "无",
        "arxiv": "arXiv",
        "paper_page": "论文",
        "dataset": "数据集",
        "model": "模型",
        "metric": "指标",
        "value": "数值",
        "params": "参数量 (M)",
        "gflops": "GFLOPs",
        "source": "出处",
        "usage": "用法",
        "get_code": "获取代码",
        "install": (
            "在仓库的本地克隆中执行 `pip install .` 即可安装（唯一的依赖是 PyTorch 2.1 及以上版本）；也可以先用 "
            "`pip wheel --no-deps -w dist .` 构建 wheel，再执行 `pip install dist/cvattn-{version}-py3-none-any.whl`。"
        ),
        "constructor": "构造函数",
        "registry_config": '`cvattn.create("{id}")` 以 {config} 构建该模块，所有参数都可以另行指定。',
        "registry_plain": '`cvattn.create("{id}")` 使用上面的默认参数构建该模块，所有参数都可以另行指定。',
        "source_file": "源代码",
        "same_api": '与上文 `{first}` 是同一个类，`cvattn.create("{id}")` 以 {config} 构建。',
        "api": "API 文档",
        "module_section": "模块实现",
        "no_module": "该条目没有对应模块：它是一篇综述、分析论文，或作为背景引用的骨干网络。",
        "papers_count": "篇",
        "count": "论文数",
        "newest": "最新收录",
        "downloads": "下载",
        "bib_export": "整个目录的 BibTeX",
        "json_export": "目录的 JSON 导出",
        "intro_all": "目录中的全部论文。点击表头即可排序。",
        "intro_year": "按发表年份整理的论文目录。",
        "intro_venue": "按会议或期刊整理的论文目录。",
        "in_category": "篇论文属于此类别",
        "tags": "标签",
        "idea_h": "核心思想",
        "mechanism": "结构图",
        "cost": "计算开销",
        "scaling": "开销随分辨率的增长",
        "diagram_alt": "数据流结构图：",
        "diagram_zoom": "点击查看原尺寸大图",
        "input": "输入",
        "params_n": "参数量",
        "macs": "MACs（卷积/矩阵乘）",
        "flops": "FLOPs（卷积/矩阵乘）",
        "flops_ew": "FLOPs（逐元素运算）",
        "flops_total": "FLOPs（合计）",
        "identity": "0（推理模式下为恒等映射）",
        "moves_data": "0（只搬移数据，不做运算）",
        "lat_f": "前向延迟 (ms)",
        "lat_fb": "前向+反向延迟 (ms)",
        "mem_f": "前向峰值内存 (MB)",
        "mem_fb": "前向+反向峰值内存 (MB)",
        "cost_note": (
            "参数量和 FLOPs 由测试重新计算核对。卷积/矩阵乘 FLOPs 由 "
            "`torch.utils.flop_counter.FlopCounterMode` 统计：卷积和矩阵乘法的每次乘加计 2 FLOPs"
            "（MACs = 卷积/矩阵乘 FLOPs / 2）。逐元素 FLOPs 按元素统计其余的算术运算：加法、乘法、激活函数和门控"
            "每个输出元素计 1，归约运算每个输入元素计 1，softmax 每个元素计 5，归一化每个元素计 2 到 7，"
            "池化窗口内每个元素计 1，另含偏置加法；纯数据搬运不计。合计为两者之和。"
            "延迟为 CPU 上多次运行的中位数，峰值内存为一次计算过程中同时占用的张量内存的最大值"
        ),
        "measured_on": "测量环境：",
        "threads": "线程",
        "no_costs": "尚未测量：请运行 `python -m scripts costs`。",
        "modules": "模块一览",
        "modules_intro": "`cvattn` 包中的全部模块及其在标准输入下的开销。点击表头即可排序。",
        "kind": "类型",
        "std_input": "标准输入",
        "chart": "各注意力模块在 1×64×56×56 输入下的开销",
        "chart_alt": "各注意力模块 FLOPs（合计与卷积/矩阵乘部分）与延迟的柱状图",
    },
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~<>])")


def text(value: str) -> str:
    """Escape entry text for Markdown: HTML-escape it, then backslash-escape Markdown punctuation."""
    escaped = html.escape(" ".join(value.split()), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", escaped)


def url(value: str) -> str:
    """A validated http(s) URL made safe inside Markdown link parentheses."""
    return quote(value, safe=":/?#[]@!$&'*+,;=%~-._")


def link(label: str, target: str) -> str:
    return f"[{label}]({url(target)})"


def suffix(lang: str) -> str:
    return "" if lang == "en" else f".{lang}"


# What follows a label before its value: ": " in English; in Chinese the full-width colon, no space after it.
COLON = {"en": ": ", "zh": "："}


def bold_label(label: str, lang: str) -> str:
    """A bold metadata label and its colon, ready for the value: ``**Authors:** `` in English, ``**作者**：``
    in Chinese (the colon outside the bold: ``**作者：**`` followed by a letter is no closing ``**`` under
    CommonMark's flanking rules, e.g. with pymdownx.betterem)."""
    if lang not in COLON:
        raise ValueError(f"bold_label: unknown language {lang!r} (known: {', '.join(COLON)})")
    return f"**{label}:** " if lang == "en" else f"**{label}**{COLON[lang]}"


def paper_href(paper: Paper, lang: str, depth: int) -> str:
    """Relative link from a generated page ``depth`` folders below docs/ to the paper's page."""
    return "../" * depth + f"{GENERATED_DIR}/papers/{paper.id}.md"


def _code_cell(paper: Paper) -> str:
    if not paper.links.code:
        return "—"
    parts = urlsplit(paper.links.code)
    name = parts.path.strip("/").split("/")[-1] if parts.netloc.endswith("github.com") else parts.netloc
    return link(text(name or "code"), paper.links.code)


BLOG_SITE_NAMES = {
    "en": {"zhihu": "Zhihu", "wechat": "WeChat", "other": "Blog"},
    "zh": {"zhihu": "知乎", "wechat": "微信公众号", "other": "博客"},
}
LANG_NAMES = {"en": {"en": "English", "zh": "Chinese"}, "zh": {"en": "英文", "zh": "中文"}}


def blog_labels(paper: Paper, lang: str) -> list[str]:
    """The text of each blog link (escaped): the post's title; for a post whose title could not be found, the
    site and language ("WeChat article (Chinese)", "微信公众号文章"), numbered when one entry has several such."""
    sites, langs = BLOG_SITE_NAMES[lang], LANG_NAMES[lang]

    def fallback(b, number: str) -> str:
        if lang == "zh":
            kind = "博客文章" if b.site == "other" else f"{sites[b.site]}文章"
            return f"{kind}{number}" + ("" if b.lang == "zh" else f"（{langs[b.lang]}）")
        kind = "Blog post" if b.site == "other" else f"{sites[b.site]} article"
        return f"{kind}{number} ({langs[b.lang]})"

    untitled = Counter(fallback(b, "") for b in paper.links.blogs if not b.title)
    seen: Counter[str] = Counter()
    labels = []
    for b in paper.links.blogs:
        if b.title:
            labels.append(text(b.title))
            continue
        plain = fallback(b, "")
        seen[plain] += 1
        labels.append(text(fallback(b, f" {seen[plain]}") if untitled[plain] > 1 else plain))
    return labels


def _blog_cell(paper: Paper, lang: str = "en") -> str:
    labels = blog_labels(paper, lang)
    return "<br>".join(link(label, b.url) for label, b in zip(labels, paper.links.blogs, strict=True)) or "—"


def _venue(catalog: Catalog, paper: Paper) -> str:
    return f"{catalog.venue_by_id[paper.venue].name} {paper.year}"


def _paper_cell(paper: Paper, lang: str, depth: int) -> str:
    return link(text(paper.title), paper_href(paper, lang, depth))


def awesome_table(catalog: Catalog, papers: list[Paper], lang: str, depth: int) -> str:
    """The seed lists' table: Paper | Venue | Code | Main idea | Blog."""
    L = LABELS[lang]
    rows = [
        f"| {L['paper']} | {L['venue']} | {L['code']} | {L['idea']} | {L['blog']} |",
        "| --- | --- | --- | --- | --- |",
    ]
    for p in papers:
        rows.append(
            f"| {_paper_cell(p, lang, depth)} | {_venue(catalog, p)} | {_code_cell(p)} | "
            f"{text(getattr(p.idea, lang))} | {_blog_cell(p, lang)} |"
        )
    return '<div class="cvattn-t-awesome" markdown>\n\n' + "\n".join(rows) + "\n\n</div>\n"


def _front(title: str, wide: bool = False, search: dict[str, list[str]] | None = None) -> str:
    """YAML front matter with the page title. MkDocs themes print ``page.title`` into the HTML without
    escaping it (<title>, header, navigation), so the title is HTML-escaped here. ``wide``: a table page,
    shown without the table-of-contents column (its tables then take the whole width, see cvattn.css).
    ``search``: what hooks/search.py indexes for the page (``search_front``)."""
    hide = "hide: [toc]\n" if wide else ""
    found = f"search: {json.dumps(search, ensure_ascii=False)}\n" if search else ""
    title_line = f"title: {json.dumps(html.escape(title, quote=False), ensure_ascii=False)}\n"
    return f"---\n{title_line}{hide}{found}---\n\n"


def search_front(catalog: Catalog, paper: Paper, lang: str) -> dict[str, list[str]]:
    """Search data of a paper page, read by hooks/search.py. ``keywords``: its module ids, so searching ``se``
    finds the SE page first, and on Chinese pages the Chinese form of a module id that names a catalogue tag
    (``non-local``: 非局部, ``strip-pooling``: 条形池化); ``terms``: the Chinese forms of its tags, which the
    hook gives jieba as words (it would cut 非局部 into 非 / 局部)."""
    out = {"keywords": list(paper.modules)}
    if lang == "zh":
        vocabulary = {t.en.replace("-", " "): t.zh for t in catalog.tags}
        names = [vocabulary.get(m.replace("-", " ")) for m in paper.modules]
        out["keywords"] += [name for name in dict.fromkeys(names) if name]
        out["terms"] = [catalog.tag_label(t, lang) for t in paper.tags]
    return {key: value for key, value in out.items() if value}


def page_all(catalog: Catalog, lang: str) -> str:
    L = LABELS[lang]
    out = [
        _front(L["all"], wide=True),
        f"# {L['all']}\n\n{L['intro_all']}\n\n",
        '<div class="cvattn-sortable cvattn-t-papers" markdown>\n\n',
    ]
    out.append(
        f"| {L['paper']} | {L['venue']} | {L['year']} | {L['category']} | {L['code']} | {L['module']} | {L['idea']} |\n"
    )
    out.append("| --- | --- | --- | --- | --- | --- | --- |\n")
    cats = catalog.category_by_id
    for p in catalog.papers:
        modules = ", ".join(f"`{m}`" for m in p.modules) or "—"
        cat = link(text(getattr(cats[p.category].name, lang)), f"categories/{p.category}.md")
        out.append(
            f"| {_paper_cell(p, lang, 1)} | {catalog.venue_by_id[p.venue].name} | {p.year} | {cat} | "
            f"{_code_cell(p)} | {modules} | {text(getattr(p.idea, lang))} |\n"
        )
    out.append("\n</div>\n")
    return "".join(out)


def page_category(catalog: Catalog, category_id: str, lang: str) -> str:
    cat = catalog.category_by_id[category_id]
    papers = catalog.in_category(category_id)
    name = getattr(cat.name, lang)
    L = LABELS[lang]
    count = f"{len(papers)} {L['in_category']}" if lang == "zh" else f"{len(papers)} {L['in_category']}."
    return (
        _front(name, wide=True)
        + f"# {name}\n\n{text(getattr(cat.description, lang))}\n\n{count}\n\n"
        + awesome_table(catalog, papers, lang, 2)
    )


def page_categories_index(catalog: Catalog, lang: str) -> str:
    L = LABELS[lang]
    out = [_front(L["categories"]), f"# {L['categories']}\n\n"]
    for c in catalog.categories:
        n = len(catalog.in_category(c.id))
        out.append(
            f"## {link(text(getattr(c.name, lang)), f'{c.id}.md')}\n\n{text(getattr(c.description, lang))} "
            f"({n} {L['papers_count'] if lang == 'zh' else L['papers_count']})\n\n"
        )
    return "".join(out)


def page_by_year(catalog: Catalog, lang: str) -> str:
    L = LABELS[lang]
    out = [_front(L["by_year"]), f"# {L['by_year']}\n\n{L['intro_year']}\n\n"]
    for year in sorted({p.year for p in catalog.papers}, reverse=True):
        out.append(f"## {year}\n\n")
        out.append(awesome_table(catalog, [p for p in catalog.papers if p.year == year], lang, 1) + "\n")
    return "".join(out)


def page_by_venue(catalog: Catalog, lang: str) -> str:
    L = LABELS[lang]
    out = [_front(L["by_venue"]), f"# {L['by_venue']}\n\n{L['intro_venue']}\n\n"]
    counts = Counter(p.venue for p in catalog.papers)
    for venue in catalog.venues:
        if counts[venue.id]:
            out.append(f"## {text(venue.name)}\n\n*{text(venue.full)}*\n\n")
            out.append(
                awesome_table(catalog, [p for p in catalog.papers if p.venue == venue.id], lang, 1) + "\n"
            )
    return "".join(out)


def bibtex_key(paper: Paper) -> str:
    last = re.sub(r"[^a-z]", "", paper.authors[0].split()[-1].lower()) or "anon"
    word = next((w for w in re.findall(r"[a-z0-9]+", paper.title.lower()) if len(w) > 3), "paper")
    return f"{last}{paper.year}{word}"


_KEYS_OF: dict[int, tuple[Catalog, dict[str, str]]] = {}
"""bibtex_keys by catalogue object (each paper page asks for them; the catalogue is kept to pin its id)."""


def bibtex_keys(catalog: Catalog) -> dict[str, str]:
    """A unique key per paper: ``<first author's family name><year><first long title word>``, then b, c, ...
    on a clash, in id order so that keys are stable."""
    known = _KEYS_OF.get(id(catalog))
    if known is not None and known[0] is catalog:
        return dict(known[1])
    keys = _bibtex_keys(catalog)
    _KEYS_OF.clear()  # one catalogue at a time (a rebuild loads a new one)
    _KEYS_OF[id(catalog)] = (catalog, keys)
    return dict(keys)


def _bibtex_keys(catalog: Catalog) -> dict[str, str]:
    keys: dict[str, str] = {}
    used: set[str] = set()
    for paper in sorted(catalog.papers, key=lambda p: p.id):
        key, n = bibtex_key(paper), 1
        while key in used:
            n += 1
            key = f"{bibtex_key(paper)}{chr(ord('a') + n - 1)}"
        used.add(key)
        keys[paper.id] = key
    return keys


_FROM_SUPERSCRIPT = {sup: plain for plain, sup in SUPERSCRIPTS.items()}
_SUPERSCRIPT_RUN = re.compile(f"[{''.join(_FROM_SUPERSCRIPT)}]+")


def bib_title(title: str) -> str:
    """The title in BibTeX's (LaTeX's) form: superscript characters become math superscripts, as the paper's
    own LaTeX writes them (A²-Nets -> A$^{2}$-Nets)."""
    return _SUPERSCRIPT_RUN.sub(
        lambda m: "$^{" + "".join(_FROM_SUPERSCRIPT[c] for c in m.group()) + "}$", title
    )


def bib_entry(catalog: Catalog, paper: Paper, key: str) -> bib.Entry:
    venue = catalog.venue_by_id[paper.venue]
    fields = [
        bib.Field("title", "{" + bib_title(paper.title) + "}"),
        bib.Field("author", " and ".join(paper.authors)),
        bib.Field("year", str(paper.year)),
    ]
    if venue.kind == "journal":
        entry_type = "article"
        fields.append(bib.Field("journal", venue.full))
    elif venue.kind == "preprint":
        entry_type = "article"
        fields.append(
            bib.Field(
                "journal",
                f"arXiv preprint arXiv:{paper.links.arxiv}" if paper.links.arxiv else "arXiv preprint",
            )
        )
    else:
        entry_type = "inproceedings"
        fields.append(bib.Field("booktitle", venue.full))
    if paper.links.arxiv:
        fields += [bib.Field("eprint", paper.links.arxiv), bib.Field("archiveprefix", "arXiv")]
    fields.append(bib.Field("url", paper.links.paper))
    return bib.Entry(entry_type, key, fields)


def bibtex(catalog: Catalog, papers: list[Paper] | None = None) -> str:
    keys = bibtex_keys(catalog)
    chosen = papers or sorted(catalog.papers, key=lambda p: p.id)
    library = bibtexparser.Library([bib_entry(catalog, p, keys[p.id]) for p in chosen])
    return bibtexparser.write_string(library)


def catalog_json(catalog: Catalog) -> str:
    data = {
        "categories": [c.model_dump(mode="json") for c in catalog.categories],
        "venues": [v.model_dump(mode="json") for v in catalog.venues],
        "papers": [
            p.model_dump(mode="json", exclude_defaults=False)
            for p in sorted(catalog.papers, key=lambda p: p.id)
        ],
    }
    return json.dumps(data, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def module_usage(
    module_id: str, class_path: str, inputs: tuple[tuple[int, ...], ...], outputs: int = 1
) -> str:
    """The usage snippet shown on a paper page; tests execute every such block. ``outputs``: how many tensors
    the module returns (a tuple when more than one)."""
    name = class_path.rsplit(".", 1)[-1]
    shapes = ", ".join("(2, " + ", ".join(map(str, s)) + ")" for s in inputs)
    if len(inputs) > 1:
        call = f'inputs = cvattn.example_input("{module_id}")  # tensors of shapes {shapes}\nout = module(*inputs)\n'
    else:
        call = f'x = cvattn.example_input("{module_id}")  # a tensor of shape {shapes}\nout = module(x)\n'
    show = "print(out.shape)\n" if outputs == 1 else "print([t.shape for t in out])\n"
    return (
        "```python\n"
        "import cvattn\n\n"
        f'module = cvattn.create("{module_id}")  # {name} with the paper\'s defaults\n'
        f"{call}{show}"
        "```\n"
    )


def _num(value: float | int | None, digits: int = 3) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def _total_flops(setting: dict, labels: dict[str, str], short: bool = False) -> str:
    """The total FLOPs of a setting; a module that returns its input in eval mode, or only moves data, says so
    beside its 0 (``short``: in a tooltip, so that a sortable column still reads the cell as the number 0)."""
    for flag, label in (("identity_in_eval", "identity"), ("moves_data_only", "moves_data")):
        if setting.get(flag) and not setting.get("total_flops"):
            return f'<abbr title="{labels[label]}">0</abbr>' if short else labels[label]
    return _num(setting.get("total_flops"))


def cost_table(entry: dict | None, lang: str) -> str:
    """The measured cost of one module at its standard inputs, with units and provenance."""
    L = LABELS[lang]
    if not entry or not entry.get("settings"):
        return L["no_costs"] + "\n\n"
    settings = [st for st in entry["settings"] if "params" in st]
    head = (
        "| | "
        + " | ".join(
            "`" + " + ".join("×".join(map(str, shape)) for shape in st["input"]) + "`" for st in settings
        )
        + " |"
    )
    rows = [head, "| --- |" + " --- |" * len(settings)]
    fields = (
        ("params_n", lambda st: _num(st["params"])),
        ("macs", lambda st: _num(st.get("macs"))),
        ("flops", lambda st: _num(st.get("flops"))),
        ("flops_ew", lambda st: _num(st.get("elementwise_flops"))),
        ("flops_total", lambda st: _total_flops(st, L)),
        ("lat_f", lambda st: _num(st.get("latency_ms", {}).get("forward"))),
        ("lat_fb", lambda st: _num(st.get("latency_ms", {}).get("forward_backward"))),
        ("mem_f", lambda st: _num(st.get("peak_memory_mb", {}).get("forward"))),
        ("mem_fb", lambda st: _num(st.get("peak_memory_mb", {}).get("forward_backward"))),
    )
    for key, get in fields:
        rows.append(f"| {L[key]} | " + " | ".join(get(st) for st in settings) + " |")
    prov = entry.get("provenance", {})
    where = (
        f"{L['measured_on']} {text(str(prov.get('machine', '?')))}, {prov.get('cpu_count', '?')} CPU, "
        f"{prov.get('threads', '?')} {L['threads']}, torch {text(str(prov.get('torch', '?')))}, "
        f"{text(str(prov.get('date', '?'))[:10])}"
    )
    return "\n".join(rows) + f"\n\n*{L['cost_note']}; {where}.*\n\n"


def _config_text(config: str) -> str:
    return f"`{config}`" if config else "no arguments"


def get_code(module_id: str, info: CodeInfo, lang: str) -> str:
    """The constructor signature, what the registry passes it, and a link to the module's source file."""
    L = LABELS[lang]
    out = []
    if info.signature:
        config = L["registry_config"].format(id=module_id, config=_config_text(info.config))
        out.append(f"**{L['constructor']}**\n\n```py\n{info.signature}\n```\n\n{config}\n\n")
    relative = info.source.removeprefix("modules/")
    out.append(f"**{L['source_file']}**{COLON[lang]}[`{info.source}`](../{SOURCE_DIR}/{relative})\n\n")
    return "".join(out)


def module_section(
    paper: Paper,
    lang: str,
    api_paths: dict[str, str],
    inputs: dict[str, tuple[tuple[int, ...], ...]],
    costs: dict | None = None,
    parity: dict[str, dict] | None = None,
    code: dict[str, CodeInfo] | None = None,
    outputs: dict[str, int] | None = None,
) -> str:
    L = LABELS[lang]
    out = [f"## {L['module_section']}\n\n"]
    if not paper.modules:
        note = getattr(paper.module_note, lang) if paper.module_note else L["no_module"]
        return out[0] + text(note) + "\n\n"
    measured = (costs or {}).get("modules", {})
    if code:
        out.append(f"**{L['get_code']}**{COLON[lang]}{L['install'].format(version=PACKAGE_VERSION)}\n\n")
    documented: dict[str, str] = {}  # class path -> the first module id on this page that shows its API block
    for module_id in paper.modules:
        out.append(f"### `{module_id}`\n\n")
        if parity and module_id in parity:
            from .verification import module_paragraph

            out.append(module_paragraph(module_id, parity[module_id], lang))
        # a link around the diagram opens it full size (docs/assets/diagram.js shows it in a lightbox)
        svg = f"../diagrams/{module_id}.svg"
        out.append(
            f"**{L['mechanism']}**\n\n[![{L['diagram_alt']} {module_id}]({svg})]({svg})"
            f'{{ .cvattn-diagram title="{L["diagram_zoom"]}" }}\n\n'
        )
        out.append(
            f"**{L['usage']}**\n\n{module_usage(module_id, api_paths[module_id], inputs.get(module_id, ()), (outputs or {}).get(module_id, 1))}\n"
        )
        info = (code or {}).get(module_id)
        if info is not None:
            out.append(get_code(module_id, info, lang))
        first = documented.setdefault(api_paths[module_id], module_id)
        if first != module_id:  # variants of one class (non-local's four modes): its API block once a page
            config = _config_text(info.config) if info is not None else "its registered defaults"
            out.append(
                f"**{L['api']}**\n\n{L['same_api'].format(first=first, id=module_id, config=config)}\n\n"
            )
        else:
            out.append(
                f"**{L['api']}**\n\n::: {api_paths[module_id]}\n    options:\n      heading_level: 4\n"
                "      show_root_heading: true\n      show_source: false\n"
                # no "Bases:" line: a base class documented on its own page (en and zh) is an ambiguous autoref
                "      show_bases: false\n\n"
            )
        out.append(f"**{L['cost']}**\n\n{cost_table(measured.get(module_id), lang)}")
        if measured.get(module_id, {}).get("scaling", {}).get("resolutions"):
            out.append(
                f"**{L['scaling']}**\n\n![{L['scaling']}: {module_id}](../scaling/{module_id}.svg)\n\n"
            )
    return "".join(out)


def page_modules(catalog: Catalog, api_paths: dict[str, str], costs: dict, lang: str) -> str:
    """Every module in one sortable table (category, kind, params, FLOPs conv/matmul and total, latency, paper)
    and the cost chart."""
    L = LABELS[lang]
    cats = catalog.category_by_id
    measured = costs.get("modules", {})
    out = [
        _front(L["modules"], wide=True),
        f"# {L['modules']}\n\n{L['modules_intro']}\n\n",
        '<div class="cvattn-sortable cvattn-t-modules" markdown>\n\n',
    ]
    out.append(
        f"| {L['module']} | {L['category']} | {L['kind']} | {L['std_input']} | {L['params_n']} | {L['flops']} | "
        f"{L['flops_total']} | {L['lat_fb']} | {L['paper']} |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
    )
    for module_id in sorted(api_paths):
        paper = catalog.paper_of_module(module_id)
        entry = measured.get(module_id, {})
        first = (entry.get("settings") or [{}])[0]
        shape = " + ".join("×".join(map(str, s)) for s in first.get("input", [])) or "—"
        cat = (
            link(text(getattr(cats[paper.category].name, lang)), f"categories/{paper.category}.md")
            if paper
            else "—"
        )
        title = link(text(paper.id), f"papers/{paper.id}.md") if paper else "—"
        out.append(
            f"| `{module_id}` | {cat} | {entry.get('kind', '—')} | {shape} | {_num(first.get('params'))} | "
            f"{_num(first.get('flops'))} | {_total_flops(first, L, short=True)} | "
            f"{_num(first.get('latency_ms', {}).get('forward_backward'))} | {title} |\n"
        )
    out.append("\n</div>\n\n")
    out.append(f"## {L['chart']}\n\n![{L['chart_alt']}](modules-cost.svg)\n")
    return "".join(out)


def page_paper(
    catalog: Catalog,
    paper: Paper,
    lang: str,
    api_paths: dict[str, str],
    inputs: dict[str, tuple[tuple[int, ...], ...]] | None = None,
    costs: dict | None = None,
    parity: dict[str, dict] | None = None,
    code: dict[str, CodeInfo] | None = None,
    outputs: dict[str, int] | None = None,
) -> str:
    L = LABELS[lang]
    venue = catalog.venue_by_id[paper.venue]
    cat = catalog.category_by_id[paper.category]
    out = [_front(paper.title, search=search_front(catalog, paper, lang)), f"# {text(paper.title)}\n\n"]
    out.append(f"{bold_label(L['authors'], lang)}{text(', '.join(paper.authors))}  \n")
    out.append(
        f"{bold_label(L['venue'], lang)}{text(venue.name)} {paper.year} · {bold_label(L['category'], lang)}"
        f"{link(text(getattr(cat.name, lang)), f'../categories/{cat.id}.md')}"
    )
    if paper.tags:
        tags = ("、" if lang == "zh" else ", ").join(catalog.tag_label(t, lang) for t in paper.tags)
        out.append(f" · {bold_label(L['tags'], lang)}{text(tags)}")
    out.append("\n\n")
    out.append(f"## {L['idea_h']}\n\n{text(getattr(paper.idea, lang))}\n\n")
    out.append(f"## {L['summary']}\n\n{text(getattr(paper.summary, lang))}\n\n")
    out.append(module_section(paper, lang, api_paths, inputs or {}, costs, parity, code, outputs))
    if paper.results:
        out.append(
            f"## {L['results']}\n\n| {L['dataset']} | {L['model']} | {L['metric']} | {L['value']} | "
            f"{L['params']} | {L['gflops']} | {L['source']} |\n| --- | --- | --- | --- | --- | --- | --- |\n"
        )
        for r in paper.results:
            source = link(text(r.source), r.source_url) if r.source_url else text(r.source)
            out.append(
                f"| {text(catalog.dataset_label(r.dataset, lang))} | {text(r.model)} | "
                f"{text(catalog.metric_label(r.metric, lang))} | {r.value:g} | "
                f"{'' if r.params is None else f'{r.params:g}'} | {'' if r.gflops is None else f'{r.gflops:g}'} | {source} |\n"
            )
        out.append("\n")
    out.append(
        f"## {L['links']}\n\n- {L['paper_page']}{COLON[lang]}{link(text(paper.links.paper), paper.links.paper)}\n"
    )
    if paper.links.arxiv:
        out.append(
            f"- {L['arxiv']}{COLON[lang]}{link(paper.links.arxiv, 'https://arxiv.org/abs/' + paper.links.arxiv)}\n"
        )
    out.append(
        f"- {L['official_code']}{COLON[lang]}{link(text(paper.links.code), paper.links.code) if paper.links.code else L['none']}\n"
    )
    for impl in paper.links.implementations:
        out.append(
            f"- {L['implementations']}{COLON[lang]}{link(text(impl.url), impl.url)} ({text(impl.note)})\n"
        )
    if paper.links.blogs:
        out.append(f"\n### {L['blogs']}\n\n")
        for label, b in zip(blog_labels(paper, lang), paper.links.blogs, strict=True):
            site, post_lang = BLOG_SITE_NAMES[lang][b.site], LANG_NAMES[lang][b.lang]
            where = f" ({site}, {post_lang})" if lang == "en" else f"（{site}，{post_lang}）"
            # an untitled post's label already names its site and language
            out.append(f"- {link(label, b.url)}{where if b.title else ''}\n")
    out.append(f"\n## {L['citation']}\n\n```bibtex\n{bibtex(catalog, [paper]).strip()}\n```\n")
    return "".join(out)


def home_block(catalog: Catalog, lang: str) -> str:
    """Counts per category and the newest entries, spliced into the hand-written home page."""
    L = LABELS[lang]
    base = f"{GENERATED_DIR}/"
    out = [f"| {L['category']} | {L['count']} |\n| --- | --- |\n"]
    for c in catalog.categories:
        out.append(
            f"| {link(text(getattr(c.name, lang)), base + f'categories/{c.id}.md')} | {len(catalog.in_category(c.id))} |\n"
        )
    out.append(f"| **{L['all']}** | {link(f'**{len(catalog.papers)}**', base + 'all.md')} |\n\n")
    out.append(f"## {L['newest']}\n\n")
    newest = sorted(catalog.papers, key=lambda p: (-p.year, p.id))[:MAX_NEWEST]
    out.append(awesome_table(catalog, newest, lang, 0).replace(f"]({GENERATED_DIR}", f"]({GENERATED_DIR}"))
    # raw HTML: MkDocs checks Markdown links against pages, and the exports are files, not pages
    prefix = "" if lang == "en" else "../"
    out.append(f"\n## {L['downloads']}\n\n")
    for name, label in (("catalog.bib", L["bib_export"]), ("catalog.json", L["json_export"])):
        out.append(f'- <a href="{prefix}{base}{name}" download>{label}</a> (`{name}`)\n')
    return "".join(out)


def site_pages(
    catalog: Catalog,
    api_paths: dict[str, str],
    inputs: dict[str, tuple[tuple[int, ...], ...]] | None = None,
    costs: dict | None = None,
    parity: dict | None = None,
    code: dict[str, CodeInfo] | None = None,
    bench: dict | None = None,
    outputs: dict[str, int] | None = None,
) -> dict[str, str]:
    """Every generated page, keyed by its path under docs/ (``catalog/...``), en and zh.

    ``parity`` is the record of ``docs/data/parity.json``; with it, every module shows its verdict and the
    Verification page lists them all. ``code`` (``registry_scan.scan_code()``): with it, every module shows
    its constructor and a link to its source file, which is copied into the site. ``bench`` is the record of
    ``docs/data/bench.json``; with it, the Benchmarks page shows the ratios against timm and fightingcv."""
    pages: dict[str, str] = {}
    verdicts = None
    if parity is not None:
        from . import verification

        verdicts = verification.verdicts(catalog, parity)
    for lang in LANGS:
        s = suffix(lang)
        pages[f"{GENERATED_DIR}/all{s}.md"] = page_all(catalog, lang)
        pages[f"{GENERATED_DIR}/years{s}.md"] = page_by_year(catalog, lang)
        pages[f"{GENERATED_DIR}/venues{s}.md"] = page_by_venue(catalog, lang)
        pages[f"{GENERATED_DIR}/categories/index{s}.md"] = page_categories_index(catalog, lang)
        for c in catalog.categories:
            pages[f"{GENERATED_DIR}/categories/{c.id}{s}.md"] = page_category(catalog, c.id, lang)
        for p in catalog.papers:
            pages[f"{GENERATED_DIR}/papers/{p.id}{s}.md"] = page_paper(
                catalog, p, lang, api_paths, inputs, costs, verdicts, code, outputs
            )
        if parity is not None:
            pages[f"{GENERATED_DIR}/verification{s}.md"] = verification.page(catalog, parity, lang)
        pages[f"{GENERATED_DIR}/modules{s}.md"] = page_modules(
            catalog, api_paths, costs or {"modules": {}}, lang
        )
    if bench is not None:
        from . import bench_page

        pages.update(bench_page.pages(catalog, bench))
    for source in sorted({info.source for info in (code or {}).values()}):  # what the source links point at
        pages[f"{GENERATED_DIR}/{SOURCE_DIR}/{source.removeprefix('modules/')}"] = (ROOT / source).read_text(
            encoding="utf-8"
        )
    pages[f"{GENERATED_DIR}/catalog.bib"] = bibtex(catalog)
    pages[f"{GENERATED_DIR}/catalog.json"] = catalog_json(catalog)
    return pages


README_START = (
    "<!-- cvattn:list:start (generated from catalog/ by `python -m scripts readme`; do not edit) -->"
)
README_END = "<!-- cvattn:list:end -->"


def readme_list(catalog: Catalog) -> str:
    out = []
    for c in catalog.categories:
        papers = catalog.in_category(c.id)
        if not papers:
            continue
        out.append(f"### {text(c.name.en)} · {text(c.name.zh)}\n\n")
        rows = ["| Paper | Venue | Code | Main idea | Blog |", "| --- | --- | --- | --- | --- |"]
        for p in papers:
            rows.append(
                f"| {link(text(p.title), p.links.paper)} | {_venue(catalog, p)} | {_code_cell(p)} | "
                f"{text(p.idea.en)} | {_blog_cell(p)} |"
            )
        out.append("\n".join(rows) + "\n\n")
    return "".join(out).rstrip() + "\n"


def splice_readme(readme: str, catalog: Catalog) -> str:
    """Replace the text between the README markers with the list; ``ValueError`` when a marker is missing."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(
            f"README.md must contain the markers {README_START!r} and {README_END!r}, in that order"
        )
    return readme[: start + len(README_START)] + "\n\n" + readme_list(catalog) + "\n" + readme[end:]


FIELDS_START = "<!-- cvattn:fields:start (generated from catalog/schema.json by `python -m scripts readme`; do not edit) -->"
FIELDS_END = "<!-- cvattn:fields:end -->"
_FIELD_LABELS = {
    "en": ("Field", "Type", "Required", "Meaning", "yes", "no"),
    "zh": ("字段", "类型", "必填", "含义", "是", "否"),
}


def _schema_type(prop: dict, defs: dict) -> tuple[str, dict | None]:
    """Readable type of a JSON Schema property, and the object schema to descend into (if any)."""
    if "$ref" in prop:
        target = defs[prop["$ref"].split("/")[-1]]
        return "mapping", target
    if "anyOf" in prop:
        kinds = [_schema_type(p, defs) for p in prop["anyOf"] if p.get("type") != "null"]
        return kinds[0] if kinds else ("null", None)
    if prop.get("type") == "array":
        inner, sub = _schema_type(prop.get("items", {}), defs)
        return f"list of {inner}", sub
    if "enum" in prop:
        return "one of: " + ", ".join(f"`{v}`" for v in prop["enum"]), None
    if "const" in prop:
        return f"`{prop['const']}`", None
    kind = prop.get("type", "any")
    if prop.get("format") == "uri" or prop.get("pattern") == "^https?://":
        kind = "http(s) URL"
    return kind, None


_VOCABULARY_TYPES = {
    "category": "id, see catalog/categories.yaml",
    "tags": "list of tags, see catalog/tags.yaml",
    "metric": "name, see catalog/metrics.yaml",
    "dataset": "name, see catalog/metrics.yaml",
}


def field_reference(schema: dict, lang: str = "en") -> str:
    """A Markdown table of every entry field (nested ones as ``links.code``), from the JSON Schema."""
    field_h, type_h, req_h, meaning_h, yes, no = _FIELD_LABELS[lang]
    defs = schema.get("$defs", {})
    rows = [f"| {field_h} | {type_h} | {req_h} | {meaning_h} |", "| --- | --- | --- | --- |"]

    def walk(obj: dict, prefix: str) -> None:
        required = set(obj.get("required", []))
        for name, prop in obj.get("properties", {}).items():
            kind, sub = _schema_type(prop, defs)
            if "one of:" in kind and len(kind) > 90:  # a long list of ids or terms: name its file
                kind = _VOCABULARY_TYPES.get(name, "id, see catalog/venues.yaml")
            desc = prop.get("description") or (sub or {}).get("description", "")
            rows.append(f"| `{prefix}{name}` | {kind} | {yes if name in required else no} | {desc} |")
            if sub is not None:
                walk(sub, f"{prefix}{name}{'[]' if kind.startswith('list') else ''}.")

    walk(schema, "")
    return "\n".join(rows) + "\n"


def splice_fields(text: str, schema: dict, lang: str) -> str:
    start, end = text.find(FIELDS_START), text.find(FIELDS_END)
    if start < 0 or end < start:
        raise ValueError(f"the field-reference markers {FIELDS_START!r} and {FIELDS_END!r} are missing")
    return text[: start + len(FIELDS_START)] + "\n\n" + field_reference(schema, lang) + "\n" + text[end:]


BOARD_START = "<!-- cvattn:leaderboard:start (generated by `python -m scripts readme`; do not edit) -->"
BOARD_END = "<!-- cvattn:leaderboard:end -->"


SMOKE_COMMAND = (
    "python -m scripts evaluate --width 8 --epochs 2 --batch-size 64 --lr 0.05 "
    "--set performer.num_heads=1 --set performer.num_features=64"
)
"""The command behind docs/data/evaluation-digits.json, quoted by the README and the leaderboard page."""


def module_options(config: dict) -> str:
    """The non-default constructor options of a harness run (``--set``), as inline code, or ''."""

    def code(value: str) -> str:  # inert in a code span; a pipe would still end the table cell
        return "`" + value.replace("`", "'").replace("|", "\\|") + "`"

    options = config.get("module_kwargs") or {}
    return ", ".join(code(f"{k}={json.dumps(v)}") for k, v in sorted(options.items()))


def readme_leaderboard(catalog: Catalog, results: list[dict]) -> str:
    """Results the papers report (with their source) and what this project's harness measured."""
    rows = [
        "| Paper | Dataset | Model | Metric | Value | Params (M) | GFLOPs | Source |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    reported = [(p, r) for p in catalog.papers for r in p.results]
    for p, r in sorted(reported, key=lambda pr: (pr[1].dataset, pr[1].metric, -pr[1].value)):
        source = link(text(r.source), r.source_url) if r.source_url else text(r.source)
        rows.append(
            f"| {link(text(p.id), p.links.paper)} | {text(r.dataset)} | {text(r.model)} | {text(r.metric)} | "
            f"{r.value:g} | {'' if r.params is None else f'{r.params:g}'} | "
            f"{'' if r.gflops is None else f'{r.gflops:g}'} | {source} |"
        )
    out = ["### Reported by the papers\n\n", "\n".join(rows), "\n\n"]
    if results:
        out.append("### Measured by this project's harness (`python -m scripts evaluate`)\n\n")
        out.append(
            "Scikit-learn's digits at 32×32 in a reduced setting: a smoke benchmark that shows every module "
            f"trains, **not a ranking of mechanisms**. Made by `{SMOKE_COMMAND}` (ResNet-18 for 32×32 inputs, "
            "one module in every residual block; options other than a module's defaults are named beside it).\n\n"
        )
        out.append(
            "| Module | Data | Top-1 (%) | Params | MACs | Epochs | Wall time (s) | Hardware | Date |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        )
        for r in sorted(results, key=lambda r: (r.get("config", {}).get("data", ""), -(r.get("top1") or 0))):
            hw = r.get("hardware", {})
            if isinstance(hw, dict):
                hw_text = (
                    f"{hw.get('cpu', '?')}, {hw.get('cpu_count', '?')} cores"
                    if hw.get("device") == "cpu"
                    else hw.get("device")
                )
            else:
                hw_text = str(hw)
            options = module_options(r.get("config", {}))
            out.append(
                f"| `{text(str(r.get('module')))}`{' ' + options if options else ''} | "
                f"{text(str(r.get('config', {}).get('data', '')))} | "
                f"{r.get('top1', 0):.2f} | {r.get('params', '')} | {r.get('macs', '')} | {r.get('epochs', '')} | "
                f"{r.get('wall_time_s', 0):.0f} | {text(str(hw_text))} | {text(str(r.get('date', ''))[:10])} |\n"
            )
    return "".join(out).rstrip() + "\n"


def splice(text_: str, start_marker: str, end_marker: str, body: str) -> str:
    start, end = text_.find(start_marker), text_.find(end_marker)
    if start < 0 or end < start:
        raise ValueError(f"the markers {start_marker!r} and {end_marker!r} are missing")
    return text_[: start + len(start_marker)] + "\n\n" + body + "\n" + text_[end:]
