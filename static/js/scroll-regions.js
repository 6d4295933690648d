/* Wide tables (.table-scroll) and charts (.chart) that scroll sideways, on a phone, become
   keyboard reachable (tabindex="0"); a table box also becomes a region named by the table's
   caption. Only while they really scroll: on a wide screen they are no extra tab stop.
   Without JavaScript, browsers that make scroll boxes focusable themselves still let the
   keyboard scroll them (WCAG 2.1.1 and 1.4.10). */
(function () {
  "use strict";

  var boxes = document.querySelectorAll(".table-scroll, .chart");
  if (!boxes.length) { return; }
  var count = 0;

  function enable(box) {
    box.setAttribute("tabindex", "0");
    box.setAttribute("data-scroll-region", "");
    if (box.tagName === "FIGURE") { return; }  // a figure is named by its figcaption already
    var caption = box.querySelector("caption");
    if (caption && !box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
      if (!caption.id) { count += 1; caption.id = "scroll-region-" + count; }
      box.setAttribute("role", "region");
      box.setAttribute("aria-labelledby", caption.id);
      box.setAttribute("data-scroll-named", "");
    }
  }

  function disable(box) {
    box.removeAttribute("tabindex");
    box.removeAttribute("data-scroll-region");
    if (box.hasAttribute("data-scroll-named")) {
      box.removeAttribute("role");
      box.removeAttribute("aria-labelledby");
      box.removeAttribute("data-scroll-named");
    }
  }

  function update() {
    Array.prototype.forEach.call(boxes, function (box) {
      var scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("data-scroll-region")) { enable(box); }
      if (!scrolls && box.hasAttribute("data-scroll-region")) { disable(box); }
    });
  }

  update();
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) { window.cancelAnimationFrame(pending); }
    pending = window.requestAnimationFrame(update);
  });
}());
