/* School lookup in the offline DUO directory (GET /geo/scholen: name and place words in any
   order, a BRIN/vestigingscode or a postcode).
   1. The submission form: suggestions under the school name (ARIA 1.2 combobox with a
      listbox popup); picking one fills in code, address and sector. Without JavaScript the
      school name is a plain text field.
   2. A search field with data-school-choices="<list id>" (the moderators' "Koppel aan
      DUO-school" page): the list of radio buttons the server rendered follows the field as
      you type. Without JavaScript the search button reloads the page with the results. */
(function () {
  "use strict";

  var script = document.currentScript;

  function initChoices(input) {
    var list = document.getElementById(input.getAttribute("data-school-choices"));
    var url = input.getAttribute("data-lookup-url");
    var status = document.querySelector("[data-school-status]");
    var hiddenQuery = document.querySelector("[data-school-query]");
    if (!list || !url || !status) { return; }
    var currentCode = list.getAttribute("data-current-code") || "";
    var currentLabel = list.getAttribute("data-label-current") || "";
    var timer = null;
    var controller = null;
    var lastQuery = input.value.trim();

    function say(name, num) {
      status.textContent = (status.getAttribute("data-label-" + name) || "").replace("{num}", String(num));
    }

    function render(data, query) {
      var checked = list.querySelector("input[type=radio]:checked");
      var keep = checked ? checked.value : "";
      var results = data.results || [];
      list.textContent = "";
      results.forEach(function (school) {
        var li = document.createElement("li");
        li.className = "checkbox school-choice";
        var radio = document.createElement("input");
        radio.type = "radio";
        radio.name = "code";
        radio.id = "code-" + school.code;
        radio.value = school.code;
        radio.checked = school.code === keep;
        var label = document.createElement("label");
        label.htmlFor = radio.id;
        var strong = document.createElement("strong");
        strong.textContent = school.name;
        var meta = document.createElement("span");
        meta.className = "school-choice-meta";
        var address = [school.street, [school.postcode, school.city].filter(Boolean).join(" ")]
          .filter(Boolean).join(", ");
        var parts = [address, school.code, school.type];
        if (currentCode && school.code === currentCode) { parts.push(currentLabel); }
        meta.textContent = parts.filter(Boolean).join(" \u00b7 ");
        label.appendChild(strong);
        label.appendChild(document.createTextNode(" "));
        label.appendChild(meta);
        li.appendChild(radio);
        li.appendChild(label);
        list.appendChild(li);
      });
      if (hiddenQuery) { hiddenQuery.value = query; }
      if (!results.length) { say("none", 0); }
      else if (data.partial) { say("partial", results.length); }
      else { say(results.length === 1 ? "one" : "count", results.length); }
    }

    function search(query) {
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?limit=10&q=" + encodeURIComponent(query), controller ? { signal: controller.signal } : {})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || input.value.trim() !== query) { return; }
          render(data, query);
        })
        .catch(function () { /* aborted or offline: the search button still works */ });
    }

    input.addEventListener("input", function () {
      var query = input.value.trim();
      clearTimeout(timer);
      if (query.length < 2 || query === lastQuery) { return; }
      lastQuery = query;
      timer = setTimeout(function () { search(query); }, 250);
    });
  }

  function init() {
    document.querySelectorAll("input[data-school-choices]").forEach(initChoices);
    initCombobox();
  }

  function initCombobox() {
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
    // Said above the suggestions when none matched every word (the closest ones follow).
    var note = document.createElement("p");
    note.className = "hint combobox-note";
    note.id = "school-suggestions-note";
    note.hidden = true;
    note.textContent = label("partial");
    wrapper.appendChild(note);
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

    var partial = false;

    function close() {
      list.hidden = true;
      note.hidden = true;
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
      note.hidden = !(partial && results.length && !list.hidden && note.textContent);
      var found = (results.length === 1 && label("one") ? label("one") : label("count"))
        .replace("{num}", String(results.length));
      live.textContent = results.length && partial && note.textContent
        ? note.textContent + " " + found
        : results.length ? found : label("none");
    }

    function search(query) {
      if (controller) { controller.abort(); }
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(query), controller ? { signal: controller.signal } : {})
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) {
          if (input.value.trim() !== query) { return; }
          results = data.results || [];
          partial = !!data.partial;
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
        if (!open && results.length) {
          list.hidden = false;
          note.hidden = !(partial && note.textContent);
          input.setAttribute("aria-expanded", "true");
        }
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
