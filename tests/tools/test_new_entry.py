"""`scripts new`: an entry skeleton from BibTeX or from the arXiv API (a local fake server here)."""

from __future__ import annotations

import http.server
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from scripts import new_entry
from scripts.catalog import ROOT, load
from tests.catalog.test_validator import make_catalog

BIBTEX = r"""
@inproceedings{hu2018squeeze,
  title     = {Squeeze-and-Excitation Networks},
  author    = {Hu, Jie and Shen, Li and Sun, Gang},
  booktitle = {Proceedings of the IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2018},
  eprint    = {1709.01507},
  archivePrefix = {arXiv},
  url       = {https://openaccess.thecvf.com/content_cvpr_2018/html/Hu_Squeeze-and-Excitation_Networks_CVPR_2018_paper.html}
}
"""
ATOM = (Path(__file__).parent / "data" / "arxiv_1807.06521.xml").read_bytes()


def test_from_bibtex_fills_what_it_can():
    entry = new_entry.from_bibtex(BIBTEX)
    assert entry["title"] == "Squeeze-and-Excitation Networks"
    assert entry["authors"] == ["Jie Hu", "Li Shen", "Gang Sun"]
    assert (entry["venue"], entry["year"]) == ("cvpr", 2018)
    assert entry["links"]["arxiv"] == "1709.01507"
    assert entry["links"]["paper"].startswith("https://openaccess.thecvf.com/")
    assert entry["idea"]["en"].startswith("TODO") and entry["summary"]["zh"].startswith("TODO")


def test_bibtex_journal_and_arxiv_url():
    entry = new_entry.from_bibtex(
        "@article{x, title={Global Context Networks}, author={Cao, Yue and Xu, Jiarui},"
        " journal={IEEE Transactions on Pattern Analysis and Machine Intelligence}, year={2020},"
        " url={https://arxiv.org/abs/2012.13375}}"
    )
    assert entry["venue"] == "tpami" and entry["links"]["arxiv"] == "2012.13375"
    assert entry["id"] == "cao2020"


@pytest.mark.parametrize("bad", ["@inproceedings{x, title={Broken", "", "@misc{x, author={A B}}"])
def test_bad_bibtex_is_a_clear_error(bad):
    with pytest.raises(new_entry.SourceError):
        new_entry.from_bibtex(bad)


def test_skeleton_validates_except_the_marked_fields(tmp_path):
    root = make_catalog(tmp_path, {})
    path = new_entry.write_entry(new_entry.from_bibtex(BIBTEX), root / "papers")
    _, problems = load(root, modules=[])
    fields = sorted(p.field for p in problems)
    assert fields == ["category", "idea.en", "idea.zh", "links.code", "summary.en", "summary.zh"]
    assert all("TODO" in p.message or "unknown category" in p.message for p in problems)
    with pytest.raises(FileExistsError):
        new_entry.write_entry(yaml.safe_load(path.read_text(encoding="utf-8")), root / "papers")


class _ArxivHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        known = "id_list=1807.06521" in self.path
        body = ATOM if known else b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>'
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def arxiv_api():
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ArxivHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/api/query"
    srv.shutdown()
    srv.server_close()


def test_from_arxiv(arxiv_api):
    entry = new_entry.from_arxiv("1807.06521", api_url=arxiv_api)
    assert entry["id"] == "cbam" and entry["title"] == "CBAM: Convolutional Block Attention Module"
    assert entry["authors"][0] == "Sanghyun Woo" and len(entry["authors"]) == 4
    assert (entry["venue"], entry["year"]) == ("eccv", 2018)
    with pytest.raises(new_entry.SourceError, match="no paper"):
        new_entry.from_arxiv("2001.99999", api_url=arxiv_api)
    with pytest.raises(new_entry.SourceError, match="not an arXiv id"):
        new_entry.from_arxiv("cbam", api_url=arxiv_api)


def test_command_writes_entry_and_lists_todo(tmp_path, arxiv_api):
    root = make_catalog(tmp_path, {})
    cmd = [
        sys.executable,
        "-m",
        "scripts",
        "new",
        "--catalog",
        str(root),
        "--arxiv",
        "1807.06521",
        "--api-url",
        arxiv_api,
        "--id",
        "cbam-test",
        "--category",
        "hybrid",
    ]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (root / "papers" / "cbam-test.yaml").exists()
    assert "idea.zh" in result.stdout and "category" not in result.stdout.split("still to write:")[1]
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert again.returncode == 1 and "already exists" in again.stderr
