/* School suggestions on the submission form (ARIA 1.2 combobox with a listbox popup).
   Typing a school name, BRIN/vestigingscode or postcode suggests schools from the offline
   DUO directory; picking one fills in code, address and sector. Without JavaScript the
   school name is a plain text field. */
(function () {
  "use strict";

  var script = document.currentScript;

  function init() {
    var input = document.getElementById("school_name");
    var url = script && script.getAttribute("data-lookup-url");
    if (!input || !url) { return; }
    var label = function (name) { return script.getAttribute("data-label-" + name) || ""; };

    var wrapper = document.createElement("div");
    wrapper.className = "combobox";
    input.parentNode.insertBefore(wrapper, input);
    wrapper.appendChild(input);

    var list = document.createElement("ul");
    list.id = "school-suggestions";
    list.className = "combobox-list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", label("list"));
    list.hidden = true;
    wrapper.appendChild(list);

    var live = document.createElement("div");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");
    wrapper.appendChild(live);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("autocomplete", "off");
    var hintId = "school-lookup-hint";
    var hint = document.createElement("p");
    hint.id = hintId;
    hint.className = "visually-hidden";
    hint.textContent = label("hint");
    wrapper.appendChild(hint);
    var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    described.push(hintId);
    input.setAttribute("aria-describedby", described.join(" "));

    var results = [];
    var active = -1;
    var timer = null;
    var lastQuery = "";
    var controller = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var options = list.querySelectorAll("[role=option]");
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === index ? "true" : "false"); });
      active = index;
      if (index >= 0 && options[index]) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function setValue(id, value) {
      var field = document.getElementById(id);
      if (!field || value === undefined || value === null) { return; }
      field.value = value;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function pick(index) {
      var school = results[index];
      if (!school) { return; }
      input.value = school.name;
      setValue("brin", school.brin);
      setValue("location_number", school.location_number || "");
      setValue("street", school.street);
      setValue("postcode", school.postcode);
      setValue("city", school.city);
      var sector = document.getElementById("sector");
      if (sector && school.sector) { setValue("sector", school.sector); }
      var website = document.getElementById("website");
      if (website && !website.value && school.website) { setValue("website", school.website); }
      close();
      live.textContent = label("picked").replace("{name}", school.name);
      document.dispatchEvent(new CustomEvent("school-picked", { detail: school }));
    }

    function render() {
      list.textContent = "";
      results.forEach(function (school, i) {
        var li = document.createElement("li");
        li.id = "school-option-" + i;
        li.className = "combobox-option";
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.appendChild(document.createTextNode(school.name));
        var small = document.createElement("small");
        small.textContent = [school.street, school.postcode, school.city].filter(Boolean).join(", ") +
          " - " + school.code;
        li.appendChild(small);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { pick(i); });
        list.appendChild(li);
      });
      if (results.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      } else {
        close();
      }
      active = -1;
      live.textContent = results.length
        ? label("count").replace("{num}", String(results.length))
        : label("none");
    }

    function search(query) {
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(query), controller ? { signal: controller.signal } : {})
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (input.value.trim() !== query) { return; }
          results = data.results || [];
          render();
        })
        .catch(function () { /* aborted or offline: the field stays a plain field */ });
    }

    input.addEventListener("input", function () {
      var query = input.value.trim();
      clearTimeout(timer);
      if (query.length < 2) { results = []; close(); lastQuery = query; return; }
      if (query === lastQuery) { return; }
      lastQuery = query;
      timer = setTimeout(function () { search(query); }, 200);
    });

    input.addEventListener("keydown", function (e) {
      var open = !list.hidden;
      if (e.key === "ArrowDown") {
        if (!open && results.length) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        if (results.length) { highlight(Math.min(active + 1, results.length - 1)); e.preventDefault(); }
      } else if (e.key === "ArrowUp") {
        if (open) { highlight(Math.max(active - 1, 0)); e.preventDefault(); }
      } else if (e.key === "Enter") {
        if (open && active >= 0) { pick(active); e.preventDefault(); }
      } else if (e.key === "Escape") {
        if (open) { close(); e.preventDefault(); }
      } else if (e.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
