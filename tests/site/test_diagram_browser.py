"""Module diagrams in a real browser (Debian's Chromium via Playwright, on 127.0.0.1): labels of at least 11 px
as rendered, a click that opens the diagram full size, and legible diagrams in Material's dark (slate) scheme.

The labels are measured on the page itself: the SVG the image shows is laid inline over the image, at the
image's rendered box, and every ``<text>`` is measured there (its font size after all scaling, and its box).
"""

from __future__ import annotations

import io

import pytest

from scripts.catalog import load
from tests.site.test_browser import browser, page, url  # noqa: F401  (fixtures: Chromium, a page, the site)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("site")]

MIN_PX = 11.0

MEASURE = """async (img) => {
  const source = await (await fetch(img.currentSrc || img.src)).text();
  const box = img.getBoundingClientRect();
  const holder = document.createElement("div");
  holder.style.cssText = `position:absolute;left:${box.left + scrollX}px;top:${box.top + scrollY}px;`;
  holder.innerHTML = source.slice(source.indexOf("<svg"));
  const svg = holder.querySelector("svg");
  svg.setAttribute("width", box.width);
  svg.setAttribute("height", box.height);
  document.body.appendChild(holder);
  const labels = Array.from(svg.querySelectorAll("text")).map((t) => ({
    text: t.textContent.trim(),
    px: parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a,
    height: t.getBoundingClientRect().height,
  }));
  holder.remove();
  const card = img.closest("a.cvattn-diagram");
  return {shown: box.width, natural: img.naturalWidth, labels: labels,
          card: card.clientWidth, scrolls: card.scrollWidth > card.clientWidth + 1,
          overflow: getComputedStyle(card).overflowX};
}"""


def _paper_of(module_id: str) -> str:
    catalog, _ = load()
    return next(p.id for p in catalog.papers if module_id in p.modules)


def _diagram(pg, module_id: str):
    link = pg.locator(f'a.cvattn-diagram:has(img[src$="/{module_id}.svg"])')
    link.scroll_into_view_if_needed()
    pg.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=link.locator("img").element_handle()
    )
    return link


# the three diagrams that were tangles of trace nodes, ECA, the widest diagram, and a zh page with four
@pytest.mark.parametrize(
    ("lang", "module_ids"),
    [
        ("", ["eca", "ccnet", "iaunet", "seaformer"]),
        ("zh/", ["non-local", "non-local-concatenation", "non-local-gaussian", "non-local-dot-product"]),
    ],
)
def test_labels_are_at_least_11px_as_rendered(browser, url, lang, module_ids):  # noqa: F811
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        for module_id in module_ids:
            pg.goto(f"{url}{lang}catalog/papers/{_paper_of(module_id)}/")
            found = _diagram(pg, module_id).locator("img").evaluate(MEASURE)
            assert found["labels"], module_id
            smallest = min(found["labels"], key=lambda label: label["px"])
            assert smallest["px"] >= MIN_PX, (module_id, width, smallest)
            lowest = min(found["labels"], key=lambda label: label["height"])
            assert lowest["height"] >= MIN_PX, (module_id, width, lowest)
            # shown at its natural size; what does not fit the column scrolls inside its card
            assert abs(found["shown"] - found["natural"]) <= 1, (
                module_id,
                width,
                found["shown"],
                found["natural"],
            )
            assert found["overflow"] == "auto"
            assert found["scrolls"] == (found["natural"] > found["card"]), (module_id, width)
        context.close()


@pytest.mark.parametrize(("lang", "title"), [("", "full size"), ("zh/", "原尺寸大图")])
def test_click_opens_the_diagram_full_size(page, url, lang, title):  # noqa: F811
    page.goto(f"{url}{lang}catalog/papers/{_paper_of('cbam')}/")
    link = _diagram(page, "cbam")
    assert title in link.get_attribute("title")
    href = link.get_attribute("href")
    assert href.endswith("/cbam.svg")  # without script, the link itself opens the SVG
    assert page.request.get(link.evaluate("a => a.href")).ok
    inline = link.locator("img").bounding_box()["width"]
    natural = link.locator("img").evaluate("img => img.naturalWidth")
    link.click()
    overlay = page.locator(".cvattn-lightbox")
    overlay.wait_for(state="visible")
    # a plain click stays on the page (navigation.tracking may put the heading's fragment into the address)
    assert page.url.split("#")[0].endswith(f"/papers/{_paper_of('cbam')}/")
    big = overlay.locator("img")
    page.wait_for_function("img => img.complete && img.style.width !== ''", arg=big.element_handle())
    enlarged = big.bounding_box()["width"]
    assert enlarged >= natural and enlarged > inline * 1.3, (inline, natural, enlarged)
    assert overlay.get_attribute("role") == "dialog"
    page.keyboard.press("Escape")
    overlay.wait_for(state="detached")
    assert link.evaluate("a => document.activeElement === a"), "focus returns to the diagram"
    link.click()
    page.locator(".cvattn-lightbox__close").click()
    overlay.wait_for(state="detached")


def _luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("module_id", ["ccnet", "eca"])
def test_diagrams_stay_legible_in_dark_mode(page, url, module_id):  # noqa: F811
    from PIL import Image

    page.goto(f"{url}catalog/papers/{_paper_of(module_id)}/")
    page.locator("label[for='__palette_1']").click()  # Material's toggle: light -> slate
    page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
    link = _diagram(page, module_id)
    page_bg = page.evaluate(
        "() => getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)"
    )
    shot = Image.open(io.BytesIO(link.screenshot())).convert("RGB")
    colours = shot.getcolors(shot.width * shot.height)
    ground = max(colours)[1]  # the most frequent colour: the card and the diagram's own ground
    ranked = sorted((_luminance(c), n) for n, c in colours)
    counts = [n for _, n in ranked]
    ink_l = ranked[next(i for i in range(len(ranked)) if sum(counts[: i + 1]) >= 20)][
        0
    ]  # the 20 darkest pixels
    page_l, ground_l = _luminance(page_bg), _luminance(ground)
    assert page_l < 0.05, "the page is in the dark scheme"
    assert _contrast(ground_l, page_l) >= 7, "the diagram sits on a light card that stands out"
    assert _contrast(ground_l, ink_l) >= 7, "its labels read at AAA contrast on that card"
