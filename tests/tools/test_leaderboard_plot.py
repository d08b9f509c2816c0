"""The leaderboard scatter: labels that never overprint each other, text in the page's language."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from scripts import leaderboard, site  # noqa: E402
from scripts.catalog import load  # noqa: E402


def _boxes(ax):
    ax.figure.canvas.draw()  # places the annotations
    renderer = ax.figure.canvas.get_renderer()
    # the text's own box (an Annotation's extent would include its leader line)
    return [Text.get_window_extent(t, renderer) for t in ax.texts]


def _overlapping(boxes):
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]


def test_crowded_points_get_labels_that_do_not_overlap():
    # 60 points in a tight cluster, as the harness panel has them
    points = [(10 + (i % 6) * 0.3, 50 + (i // 6) * 0.8, f"module-{i}") for i in range(60)]
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.scatter([p[0] for p in points], [p[1] for p in points])
    ax.set_xlim(5, 20)
    ax.set_ylim(45, 62)
    texts = leaderboard.place_labels(ax, points)
    boxes = _boxes(ax)
    assert len(texts) == len(boxes) >= 50, "most points keep a label"
    assert _overlapping(boxes) == []
    marks = [ax.transData.transform(p[:2]) for p in points]
    assert not any(b.contains(x, y) for b in boxes for x, y in marks), "no label covers a point"
    plt.close(fig)


def test_real_leaderboard_labels_every_point_without_overlap():
    import html
    import re

    catalog, _ = load()
    results = leaderboard.load_results(site.RESULT_FILES)
    labels = [r.model for p in catalog.papers for r in p.results if r.gflops and "top-1" in r.metric.lower()]
    labels += [r["module"] for r in results if r.get("top1") is not None and r.get("macs")]
    assert len(labels) > 20
    svg = site._leaderboard_plot(catalog, "en")
    drawn = [
        html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    ]  # svg.fonttype none: real text
    missing = [label for label in set(labels) if label not in drawn]
    assert missing == [], f"unlabelled points: {missing}"


def test_chinese_leaderboard_speaks_chinese():
    catalog, _ = load()
    zh = site._leaderboard_plot(catalog, "zh")
    en = site._leaderboard_plot(catalog, "en")
    assert "论文报告" in zh and "top-1 准确率" in zh and "reported" not in zh
    assert "reported" in en and "论文报告" not in en
