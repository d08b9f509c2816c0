// Wide tables: when a table is wider than its column, say so above it ("scroll sideways") and keep its
// scrollbar visible; long text columns (ideas, notes) get a class that gives them a sensible minimum width.
(function () {
  const HINT = { en: "Scroll sideways for more columns →", zh: "表格较宽，可左右滑动查看更多列 →" };
  function lang() { return (document.documentElement.lang || "en").toLowerCase().startsWith("zh") ? "zh" : "en"; }
  function markLongColumns(table) {
    const rows = Array.from(table.tBodies[0] ? table.tBodies[0].rows : []);
    if (!rows.length) return;
    Array.from(rows[0].cells).forEach(function (_, index) {
      const total = rows.reduce(function (sum, r) { return sum + (r.cells[index] ? r.cells[index].textContent.length : 0); }, 0);
      if (total / rows.length > 60) rows.forEach(function (r) { if (r.cells[index]) r.cells[index].classList.add("cvattn-long"); });
    });
  }
  function update(wrap) {
    const table = wrap.querySelector("table");
    if (!table) return;
    const overflowing = table.scrollWidth > wrap.clientWidth + 1;
    wrap.classList.toggle("cvattn-overflow", overflowing);
    let hint = wrap.previousElementSibling;
    const hasHint = hint && hint.classList.contains("cvattn-scroll-hint");
    if (overflowing && !hasHint) {
      hint = document.createElement("p");
      hint.className = "cvattn-scroll-hint";
      hint.textContent = HINT[lang()];
      wrap.parentNode.insertBefore(hint, wrap);
    } else if (!overflowing && hasHint) {
      hint.remove();
    }
  }
  function init() {
    const wraps = Array.from(document.querySelectorAll(".md-typeset__scrollwrap"));
    wraps.forEach(function (w) { const t = w.querySelector("table"); if (t) markLongColumns(t); update(w); });
    if (window.ResizeObserver) {
      const observer = new ResizeObserver(function (entries) { entries.forEach(function (e) { update(e.target); }); });
      wraps.forEach(function (w) { observer.observe(w); });
    }
  }
  if (window.document$) { window.document$.subscribe(init); } else { document.addEventListener("DOMContentLoaded", init); }
})();
