/* Progressive enhancement for the registry. Everything works without this file. */
(function () {
  "use strict";

  // Move focus to the error summary (GOV.UK pattern) or to a row added without JS.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
    } else {
      var form = document.querySelector("form[data-focus]");
      if (form) {
        var target = document.getElementById(form.getAttribute("data-focus"));
        if (target) { target.focus(); }
      }
    }
    enhanceObstacleRows();
  });

  // Add and remove obstacle rows in the browser; without JS the buttons post the form.
  function enhanceObstacleRows() {
    var list = document.querySelector("[data-obstacle-list]");
    var template = document.getElementById("obstacle-template");
    var addButton = document.querySelector("[data-add-obstacle]");
    if (!list || !template || !addButton) { return; }

    function nextIndex() {
      var max = -1;
      list.querySelectorAll("[data-obstacle-row]").forEach(function (row) {
        var n = parseInt(row.id.split("-").pop(), 10);
        if (!isNaN(n) && n > max) { max = n; }
      });
      return max + 1;
    }

    function renumber() {
      var rows = list.querySelectorAll("[data-obstacle-row]");
      rows.forEach(function (row, i) {
        var number = row.querySelector("[data-obstacle-number]");
        if (number) { number.textContent = String(i + 1); }
        var remove = row.querySelector("[data-remove-obstacle]");
        if (remove) { remove.hidden = rows.length < 2; }
      });
      addButton.hidden = rows.length >= 20;
    }

    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-obstacle]");
      if (!button) { return; }
      event.preventDefault();
      var rows = list.querySelectorAll("[data-obstacle-row]");
      if (rows.length < 2) { return; }
      var row = button.closest("[data-obstacle-row]");
      var previous = row.previousElementSibling || row.nextElementSibling;
      row.remove();
      renumber();
      if (previous) { previous.focus(); }
    });

    addButton.addEventListener("click", function (event) {
      event.preventDefault();
      var index = String(nextIndex());
      var html = template.innerHTML.replace(/__INDEX__/g, index);
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      list.appendChild(row);
      renumber();
      row.focus();
    });
    renumber();
  }
})();
