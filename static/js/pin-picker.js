/* A small Leaflet map to place one pin by hand (submission form, moderators' location page).
   The pin is written to two inputs (hidden or visible); without JavaScript they can be typed
   (moderators) or are simply left empty (submitters). */
(function () {
  "use strict";

  var NL = { minLat: 50.7, maxLat: 53.6, minLon: 3.2, maxLon: 7.3 };

  function insideBox(lat, lon) {
    return lat >= NL.minLat && lat <= NL.maxLat && lon >= NL.minLon && lon <= NL.maxLon;
  }

  function parse(value) {
    var n = parseFloat(String(value || "").replace(",", "."));
    return isNaN(n) ? null : n;
  }

  function setup(box) {
    if (!window.L) { return; }
    var latInput = document.getElementById(box.getAttribute("data-lat-input") || "") ||
      box.querySelector("[data-pin-lat]");
    var lonInput = document.getElementById(box.getAttribute("data-lon-input") || "") ||
      box.querySelector("[data-pin-lon]");
    var mapNode = box.querySelector(".pin-map");
    var picker = box.querySelector(".pin-picker");
    var toggle = box.querySelector("[data-pin-toggle]");
    var status = box.querySelector("[data-pin-status]");
    if (!latInput || !lonInput || !mapNode) { return; }
    box.hidden = false;
    var map = null;
    var marker = null;

    function say(text) { if (status) { status.textContent = text; } }

    function place(lat, lon, announce) {
      if (!insideBox(lat, lon)) { say(box.getAttribute("data-label-outside")); return; }
      latInput.value = lat.toFixed(6);
      lonInput.value = lon.toFixed(6);
      latInput.dispatchEvent(new Event("change", { bubbles: true }));
      if (map) {
        if (!marker) {
          marker = L.marker([lat, lon], { draggable: true, keyboard: false }).addTo(map);
          marker.on("dragend", function () {
            var p = marker.getLatLng();
            place(p.lat, p.lng, true);
          });
        } else {
          marker.setLatLng([lat, lon]);
        }
      }
      if (announce) {
        say(box.getAttribute("data-label-set").replace("{lat}", lat.toFixed(5))
          .replace("{lon}", lon.toFixed(5)));
      }
    }

    function clear() {
      latInput.value = "";
      lonInput.value = "";
      if (marker && map) { map.removeLayer(marker); marker = null; }
      say(box.getAttribute("data-label-cleared"));
    }

    function createMap() {
      if (map) { return; }
      var lat = parse(latInput.value);
      var lon = parse(lonInput.value);
      var hasPin = lat !== null && lon !== null;
      map = L.map(mapNode, {
        center: hasPin ? [lat, lon] : [52.2, 5.3], zoom: hasPin ? 14 : 7,
        minZoom: 6, maxZoom: 18, keyboard: true
      });
      var tileUrl = box.getAttribute("data-tile-url");
      if (tileUrl) {
        L.tileLayer(tileUrl, {
          maxZoom: 18, attribution: box.getAttribute("data-tile-attribution") || ""
        }).addTo(map);
      }
      var outlines = box.getAttribute("data-outlines");
      if (outlines) {
        fetch(outlines).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
          if (d) {
            L.geoJSON(d, { interactive: false, style: {
              color: "#4a4a4a", weight: 1, fillColor: "#e8eef2", fillOpacity: tileUrl ? 0 : 1
            } }).addTo(map).bringToBack();
          }
        }).catch(function () { /* decoration only */ });
      }
      map.on("click", function (e) { place(e.latlng.lat, e.latlng.lng, true); });
      if (hasPin) { place(lat, lon, false); }
    }

    function open() {
      if (picker) { picker.hidden = false; }
      if (toggle) { toggle.setAttribute("aria-expanded", "true"); }
      createMap();
      map.invalidateSize();
    }

    if (toggle && picker) {
      toggle.addEventListener("click", function () {
        if (picker.hidden) { open(); } else {
          picker.hidden = true;
          toggle.setAttribute("aria-expanded", "false");
        }
      });
      if (latInput.value) { open(); }
    } else {
      open();
    }
    var center = box.querySelector("[data-pin-center]");
    if (center) {
      center.addEventListener("click", function () {
        open();
        var c = map.getCenter();
        place(c.lat, c.lng, true);
      });
    }
    var clearButton = box.querySelector("[data-pin-clear]");
    if (clearButton) { clearButton.addEventListener("click", clear); }
    // Typed coordinates (moderators) move the pin too.
    [latInput, lonInput].forEach(function (input) {
      if (input.type === "hidden") { return; }
      input.addEventListener("change", function () {
        var lat = parse(latInput.value);
        var lon = parse(lonInput.value);
        if (lat !== null && lon !== null && map && insideBox(lat, lon)) {
          if (marker) { marker.setLatLng([lat, lon]); } else { place(lat, lon, false); }
          map.setView([lat, lon]);
        }
      });
    });
    // A school picked from the suggestions: centre the map there.
    document.addEventListener("school-picked", function (e) {
      if (map && e.detail && e.detail.latitude) {
        map.setView([e.detail.latitude, e.detail.longitude], 15);
      }
    });
  }

  function init() {
    document.querySelectorAll("[data-pin-picker]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
