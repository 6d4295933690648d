/* A small Leaflet map to place one pin by hand (submission form, moderators' location page).
   The pin is written to two inputs (hidden or visible); without JavaScript they can be typed
   (moderators) or are simply left empty (submitters).

   Where it opens: on the pin when one is set (zoom 14); otherwise on the chosen school, with
   its own marker (data-school-* from the server, or the "school-picked" event of the school
   suggestions; zoom 13); otherwise on the whole country. */
(function () {
  "use strict";

  var NL = { minLat: 50.7, maxLat: 53.6, minLon: 3.2, maxLon: 7.3 };
  var NL_BOUNDS = [[50.75, 3.36], [53.56, 7.23]];
  var SCHOOL_ZOOM = 13;

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
    var school = readSchool(box);
    var schoolMarker = null;

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

    /* The school's own marker: where the location comes from when no pin is set. */
    function showSchool() {
      if (!map || !school) { return; }
      var title = (box.getAttribute("data-label-school") || "{name}").replace("{name}", school.name);
      if (!schoolMarker) {
        schoolMarker = L.marker([school.lat, school.lon], {
          icon: L.divIcon({ className: "pin-school", iconSize: [16, 16], iconAnchor: [8, 8] }),
          interactive: false, keyboard: false, title: title, alt: title
        }).addTo(map);
        schoolMarker.bindTooltip(school.name, {
          permanent: true, direction: "top", offset: [0, -8], className: "pin-school-label"
        });
      } else {
        schoolMarker.setLatLng([school.lat, school.lon]);
        schoolMarker.setTooltipContent(school.name);
        var node = schoolMarker.getElement();
        if (node) { node.title = title; }
      }
    }

    function createMap() {
      if (map) { return; }
      var lat = parse(latInput.value);
      var lon = parse(lonInput.value);
      var hasPin = lat !== null && lon !== null;
      map = L.map(mapNode, { minZoom: 6, maxZoom: 18, zoomSnap: 0.5, keyboard: true });
      mapNode.leafletMap = map;  // for the tests and the browser console
      if (hasPin) {
        map.setView([lat, lon], 14);
      } else if (school) {
        map.setView([school.lat, school.lon], school.zoom || SCHOOL_ZOOM);
      } else {
        map.fitBounds(NL_BOUNDS);
      }
      var tileUrl = box.getAttribute("data-tile-url");
      if (tileUrl) {
        L.tileLayer(tileUrl, {
          maxZoom: 18, attribution: box.getAttribute("data-tile-attribution") || ""
        }).addTo(map);
      }
      var context = box.getAttribute("data-context");
      var outlines = box.getAttribute("data-outlines");
      if (context && window.RegistryMapContext) {
        RegistryMapContext.add(map, context, {
          tiles: !!tileUrl,
          municipalityZoom: parseInt(box.getAttribute("data-municipality-zoom"), 10) || 9
        }).catch(function () { /* decoration only */ });
      } else if (outlines) {
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
      showSchool();
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
    // A school picked from the suggestions: remember it; centre the map there (now, or when
    // it is opened).
    document.addEventListener("school-picked", function (e) {
      var d = e.detail || {};
      var lat = parse(d.latitude);
      var lon = parse(d.longitude);
      if (lat === null || lon === null || !insideBox(lat, lon)) { return; }
      school = { lat: lat, lon: lon, name: d.name || "", zoom: SCHOOL_ZOOM };
      if (map) {
        showSchool();
        map.setView([lat, lon], SCHOOL_ZOOM);
      }
    });
  }

  function readSchool(box) {
    var lat = parse(box.getAttribute("data-school-lat"));
    var lon = parse(box.getAttribute("data-school-lon"));
    if (lat === null || lon === null || !insideBox(lat, lon)) { return null; }
    return { lat: lat, lon: lon, name: box.getAttribute("data-school-name") || "",
             zoom: parseInt(box.getAttribute("data-school-zoom"), 10) || SCHOOL_ZOOM };
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
