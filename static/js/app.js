/* Progressive enhancement for the registry. Everything works without this file. */
(function () {
  "use strict";

  // Move focus to the error summary (GOV.UK pattern), to a row added without JS, or to the
  // part of the form a "Wijzig" button or a row button landed on (#stap-2, #knelpunt-3).
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    var landed = landingTarget();
    if (summary) {
      summary.focus();
    } else if (landed) {
      landed.focus();
    } else {
      var form = document.querySelector("form[data-focus]");
      if (form) {
        var target = document.getElementById(form.getAttribute("data-focus"));
        if (target) { target.focus(); }
      }
    }
    enhanceObstacleRows();
    trackFormSteps();
  });

  function landingTarget() {
    var id = window.location.hash.slice(1);
    if (!/^(stap|knelpunt)-[0-9]+$/.test(id)) { return null; }
    var target = document.getElementById(id);
    return target && target.closest("form.submission-form") ? target : null;
  }

  // The list of steps above the form marks the step in view (aria-current="step").
  function trackFormSteps() {
    var nav = document.querySelector("[data-form-steps]");
    if (!nav || !("IntersectionObserver" in window)) { return; }
    var links = Array.prototype.slice.call(nav.querySelectorAll("a[href^='#stap-']"));
    var sections = links.map(function (link) {
      var legend = document.getElementById(link.getAttribute("href").slice(1));
      return legend && legend.closest("fieldset");
    });
    var visible = sections.map(function () { return false; });
    function mark() {
      var current = visible.indexOf(true);
      links.forEach(function (link, i) {
        if (i === current) { link.setAttribute("aria-current", "step"); }
        else { link.removeAttribute("aria-current"); }
      });
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        var i = sections.indexOf(entry.target);
        if (i >= 0) { visible[i] = entry.isIntersecting; }
      });
      mark();
    }, {rootMargin: "-40% 0px -55% 0px"});
    sections.forEach(function (section) { if (section) { observer.observe(section); } });
  }

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
        var legend = row.querySelector("[data-obstacle-legend]");
        if (legend) { legend.id = "knelpunt-" + (i + 1); }
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
