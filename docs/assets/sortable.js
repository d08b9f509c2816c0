// Click a header of a table inside `.cvattn-sortable` to sort by that column (again to reverse).
// Written for this site (no dependency); numbers sort by value (thousands separators and k/M/G/% suffixes
// understood), blank cells last, everything else by locale.
(function () {
  function cellValue(row, index) {
    const cell = row.cells[index];
    return cell ? cell.textContent.trim() : "";
  }
  // "4,208", "1 234", "12.5", "3.1M", "75.7%" -> a number; anything else -> null.
  const SCALE = { k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, "%": 1 };
  function numeric(text) {
    const t = text.replace(/[,\s\u00a0\u202f\u2009]/g, "").replace(/^\u2212/, "-");
    const m = /^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)([kKMGT%]?)$/.exec(t);
    return m ? parseFloat(m[1]) * (m[2] ? SCALE[m[2]] : 1) : null;
  }
  function isBlank(text) { return text === "" || text === "\u2014" || text === "-" || text === "n/a"; }
  // Blank cells ("—") go last in either direction; numbers by value; text by locale.
  function compare(a, b, ascending) {
    const blankA = isBlank(a), blankB = isBlank(b);
    if (blankA || blankB) return blankA === blankB ? 0 : (blankA ? 1 : -1);
    const x = numeric(a), y = numeric(b);
    let c;
    if (x !== null && y !== null) c = x - y;
    else if (x !== null) c = -1;
    else if (y !== null) c = 1;
    else c = a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
    return ascending ? c : -c;
  }
  function makeSortable(table) {
    const headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.from(headers).forEach(function (th, index) {
      th.classList.add("cvattn-sort");
      th.setAttribute("role", "button");
      th.setAttribute("tabindex", "0");
      const sort = function () {
        const body = table.tBodies[0];
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.from(headers).forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const rows = Array.from(body.rows);
        rows.sort(function (r1, r2) {
          return compare(cellValue(r1, index), cellValue(r2, index), ascending);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  }
  function init() {
    document.querySelectorAll(".cvattn-sortable table").forEach(makeSortable);
  }
  if (window.document$) { window.document$.subscribe(init); } else { document.addEventListener("DOMContentLoaded", init); }
})();
