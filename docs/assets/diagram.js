// Module diagrams: each is a link to its SVG (so it opens full size without script too); a plain click
// shows it in a lightbox instead, at least at its natural size and grown to the window width (up to twice
// that). Escape, the close button or a click beside the diagram closes it, and focus returns to the link.
(function () {
  const CLOSE = { en: "Close the enlarged diagram", zh: "关闭大图" };
  let overlay = null;
  let opener = null;
  function lang() { return (document.documentElement.lang || "en").toLowerCase().startsWith("zh") ? "zh" : "en"; }
  function close() {
    if (!overlay) return;
    overlay.remove();
    overlay = null;
    document.documentElement.classList.remove("cvattn-lightbox-open");
    if (opener) opener.focus();
  }
  function open(link) {
    close();
    opener = link;
    const small = link.querySelector("img");
    overlay = document.createElement("div");
    overlay.className = "cvattn-lightbox";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", small ? small.alt : link.title);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "cvattn-lightbox__close";
    button.setAttribute("aria-label", CLOSE[lang()]);
    button.textContent = "×";
    const big = document.createElement("img");
    big.className = "cvattn-lightbox__img";
    big.alt = small ? small.alt : "";
    function size() {
      const natural = big.naturalWidth || (small ? small.naturalWidth : 0);
      if (!natural) return;
      const room = document.documentElement.clientWidth - 64;
      big.style.width = Math.round(Math.max(natural, Math.min(room, 2 * natural))) + "px";
    }
    big.addEventListener("load", size);
    big.src = link.href;
    overlay.append(button, big);
    overlay.addEventListener("click", function (event) {
      if (event.target !== big) close();
    });
    document.body.appendChild(overlay);
    document.documentElement.classList.add("cvattn-lightbox-open");
    button.focus();
    if (big.complete) size();
  }
  document.addEventListener("click", function (event) {
    const link = event.target.closest ? event.target.closest("a.cvattn-diagram") : null;
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    open(link);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
})();
