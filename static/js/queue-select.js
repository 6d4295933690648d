/* The moderation queue: one checkbox in the table head selects every entry on the page.
   Without JavaScript the link "select all on this page" does the same (?select=all). */
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-bulk-form]");
    if (!form) { return; }
    var all = form.querySelector("[data-select-all]");
    var boxes = Array.prototype.slice.call(
      form.querySelectorAll('input[type="checkbox"][name="ids"]'));
    if (!all || !boxes.length) { return; }

    function sync() {
      var checked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }

    all.addEventListener("change", function () {
      var on = all.checked;
      boxes.forEach(function (box) { box.checked = on; });
      sync();
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    var links = form.querySelector("[data-select-all-links]");
    if (links) { links.hidden = true; }  // the checkbox replaces the link
    all.hidden = false;
    sync();
  });
})();
