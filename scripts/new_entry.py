"""Create a catalogue entry skeleton from a BibTeX entry or an arXiv id.

Everything the source states is filled in (title, authors, year, venue, arXiv id, links); what only a
person can write — category, idea and summary in English and Chinese — is left as a ``TODO:`` placeholder,
which the validator reports until it is replaced.
"""

from __future__ import annotations

import re
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import bibtexparser
import yaml

from .catalog import CATALOG_DIR, SCHEMA_LINE

ARXIV_API = "https://export.arxiv.org/api/query"
TODO = "TODO"
_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5})(v\d+)?")

# Words that identify a venue in a booktitle/journal/journal_ref, most specific first.
VENUE_PATTERNS = [
    ("cvprw", r"\bCVPR\b.*\bworkshops?\b|Computer Vision and Pattern Recognition Workshops?"),
    ("iccvw", r"\bICCV\b.*\bworkshops?\b|International Conference on Computer Vision Workshops?"),
    ("cvpr", r"\bCVPR\b|Computer Vision and Pattern Recognition"),
    ("iccv", r"\bICCV\b|International Conference on Computer Vision"),
    ("eccv", r"\bECCV\b|European Conference on Computer Vision"),
    ("neurips", r"\bNeurIPS\b|\bNIPS\b|Neural Information Processing Systems"),
    ("iclr", r"\bICLR\b|Learning Representations"),
    ("icml", r"\bICML\b|International Conference on Machine Learning"),
    ("aaai", r"\bAAAI\b"),
    ("wacv", r"\bWACV\b|Winter Conference on Applications of Computer Vision"),
    ("bmvc", r"\bBMVC\b|British Machine Vision"),
    ("accv", r"\bACCV\b|Asian Conference on Computer Vision"),
    ("miccai", r"\bMICCAI\b|Medical Image Computing"),
    ("icassp", r"\bICASSP\b|Acoustics, Speech"),
    ("icip", r"\bICIP\b|International Conference on Image Processing"),
    ("acmmm", r"\bACM MM\b|ACM International Conference on Multimedia|\bACM Multimedia\b"),
    ("tpami", r"\bTPAMI\b|Pattern Analysis and Machine Intelligence"),
    ("tnnls", r"\bTNNLS\b|Neural Networks and Learning Systems"),
    ("tip", r"\bTIP\b|Transactions on Image Processing"),
    ("tist", r"\bTIST\b|Intelligent Systems and Technology"),
    ("arxiv", r"arXiv|\bCoRR\b"),
]


class SourceError(ValueError):
    """The BibTeX or arXiv answer could not be turned into an entry; the message says why."""


def venue_from_text(value: str) -> str | None:
    for venue_id, pattern in VENUE_PATTERNS:
        if re.search(pattern, value, re.I):
            return venue_id
    return None


def slug_from(title: str, authors: list[str], year: int | None) -> str:
    """``CBAM: Convolutional ...`` → ``cbam``; otherwise the first author's family name and the year."""
    head = title.split(":")[0].strip()
    if ":" in title and len(head.split()) == 1:
        slug = re.sub(r"[^a-z0-9]+", "-", head.lower()).strip("-")
        if slug:
            return slug
    family = re.sub(r"[^a-z0-9]+", "", authors[0].split()[-1].lower()) if authors else "paper"
    return f"{family}{year or ''}"


def _person(name: str) -> str:
    """BibTeX ``Family, Given`` → ``Given Family``; braces removed."""
    name = re.sub(r"[{}]", "", name).strip()
    if "," in name:
        family, given = (part.strip() for part in name.split(",", 1))
        return f"{given} {family}"
    return name


def _clean(value: str) -> str:
    return " ".join(re.sub(r"[{}]", "", value).split())


def from_bibtex(text: str) -> dict[str, Any]:
    library = bibtexparser.parse_string(text)
    if library.failed_blocks:
        raise SourceError(f"BibTeX could not be parsed: {library.failed_blocks[0].error}")
    if len(library.entries) != 1:
        raise SourceError(f"expected exactly one BibTeX entry, found {len(library.entries)}")
    entry = library.entries[0]
    fields = {key.lower(): _clean(str(field.value)) for key, field in entry.fields_dict.items()}
    if "title" not in fields:
        raise SourceError("the BibTeX entry has no title")
    authors = [_person(a) for a in re.split(r"\s+and\s+", fields.get("author", "")) if a.strip()]
    year = int(fields["year"]) if fields.get("year", "").isdigit() else None
    arxiv = None
    for key in ("eprint", "url", "journal", "note"):
        match = _ARXIV_ID.search(fields.get(key, ""))
        if match and (key == "eprint" or "arxiv" in fields.get(key, "").lower()):
            arxiv = match.group(1)
            break
    venue_text = fields.get("booktitle") or fields.get("journal") or ""
    paper = fields.get("url") or (f"https://doi.org/{fields['doi']}" if fields.get("doi") else None)
    return _skeleton(
        fields["title"],
        authors,
        year,
        venue_from_text(venue_text) if venue_text else ("arxiv" if arxiv else None),
        arxiv,
        paper,
    )


def from_arxiv(arxiv_id: str, api_url: str = ARXIV_API, timeout: float = 20) -> dict[str, Any]:
    match = _ARXIV_ID.fullmatch(arxiv_id.strip().removeprefix("arXiv:"))
    if not match:
        raise SourceError(f"not an arXiv id: {arxiv_id!r} (expected e.g. 1709.01507)")
    arxiv = match.group(1)
    with urllib.request.urlopen(f"{api_url}?id_list={arxiv}", timeout=timeout) as response:
        xml = response.read()
    ns = {"a": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}
    entry = ET.fromstring(xml).find("a:entry", ns)
    title = entry.findtext("a:title", default="", namespaces=ns) if entry is not None else ""
    if (
        entry is None
        or not title.strip()
        or entry.findtext("a:id", default="", namespaces=ns).endswith("api/errors")
    ):
        raise SourceError(f"arXiv has no paper {arxiv}")
    authors = [
        " ".join(a.findtext("a:name", default="", namespaces=ns).split())
        for a in entry.findall("a:author", ns)
    ]
    year = int(entry.findtext("a:published", default="0000", namespaces=ns)[:4])
    journal = entry.findtext("arxiv:journal_ref", default="", namespaces=ns)
    venue = venue_from_text(journal) if journal else "arxiv"
    if journal and (found := re.search(r"(19|20)\d\d", journal)):
        year = int(found.group(0))
    return _skeleton(" ".join(title.split()), authors, year, venue, arxiv, None)


def _skeleton(
    title: str, authors: list[str], year: int | None, venue: str | None, arxiv: str | None, paper: str | None
) -> dict[str, Any]:
    links: dict[str, Any] = {
        "paper": paper or (f"https://arxiv.org/abs/{arxiv}" if arxiv else f"{TODO}: proceedings URL")
    }
    if arxiv:
        links["arxiv"] = arxiv
    links["code"] = f"{TODO}: official repository URL, or delete this line when there is none"
    return {
        "id": slug_from(title, authors, year),
        "title": title,
        "authors": authors or [f"{TODO}: authors"],
        "venue": venue or f"{TODO}: venue id from catalog/venues.yaml",
        "year": year or 0,
        "category": f"{TODO}: category id from catalog/categories.yaml",
        "tags": [],
        "links": links,
        "idea": {"en": f"{TODO}: one line in English", "zh": f"{TODO}: 一句话中文"},
        "summary": {"en": f"{TODO}: two to four sentences in English", "zh": f"{TODO}: 两到四句中文概述"},
        "modules": [],
    }


def write_entry(
    entry: dict[str, Any], papers_dir: Path = CATALOG_DIR / "papers", overwrite: bool = False
) -> Path:
    """Write the entry as ``papers_dir/<id>.yaml``; ``FileExistsError`` rather than overwrite an entry."""
    path = papers_dir / f"{entry['id']}.yaml"
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists: choose another --id")
    body = yaml.safe_dump(entry, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(f"{SCHEMA_LINE}\n{body}", encoding="utf-8")
    return path
