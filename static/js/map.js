/* The public map: Leaflet + markercluster, markers from /kaart/initiatieven.geojson.
   The list beside the map is a full alternative; this file only enhances the page. */
(function () {
  "use strict";

  // The Netherlands, mainland and islands: what the map shows before (or without) markers.
  var NL_BOUNDS = [[50.75, 3.36], [53.56, 7.23]];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function parseJSON(value, fallback) {
    try { return JSON.parse(value || ""); } catch (e) { return fallback; }
  }

  function popupContent(props, labels, areaLabels) {
    var box = el("div", "map-popup");
    var title = el("p", "map-popup-title");
    var link = el("a", null, props.title);
    link.href = props.url;
    title.appendChild(link);
    box.appendChild(title);
    box.appendChild(el("p", "map-popup-meta", props.school));
    var place = [props.place, props.province ? "(" + props.province + ")" : ""].join(" ").trim();
    if (place) { box.appendChild(el("p", "map-popup-meta", place)); }
    if (props.areas && props.areas.length) {
      var names = props.areas.map(function (code) { return areaLabels[code] || code; });
      box.appendChild(el("p", "map-popup-areas", labels.areas + ": " + names.join(", ")));
    }
    var more = el("a", "map-popup-more", labels.open);
    more.href = props.url;
    box.appendChild(more);
    return box;
  }

  function init() {
    var node = document.getElementById("map");
    var status = document.getElementById("map-status");
    if (!node) { return; }
    var labels = {
      areas: node.getAttribute("data-label-areas"),
      open: node.getAttribute("data-label-open"),
      loading: node.getAttribute("data-label-loading"),
      error: node.getAttribute("data-label-error"),
      shown: node.getAttribute("data-label-shown")
    };
    function say(text) { if (status) { status.textContent = text; } }
    if (!window.L || !L.markerClusterGroup) { say(labels.error); return; }

    node.classList.add("map-ready");
    say(labels.loading);
    var map = L.map(node, { minZoom: 6, maxZoom: 18, zoomSnap: 0.25, keyboard: true });
    map.fitBounds(NL_BOUNDS, { animate: false });
    var tileUrl = node.getAttribute("data-tile-url");
    if (tileUrl) {
      L.tileLayer(tileUrl, {
        maxZoom: 18, attribution: node.getAttribute("data-tile-attribution") || ""
      }).addTo(map);
    }
    // Province and municipality outlines and names (map-context.js): the base map when there
    // are no tiles, the province borders over them otherwise.
    var contextUrl = node.getAttribute("data-context");
    if (contextUrl && window.RegistryMapContext) {
      RegistryMapContext.add(map, contextUrl, {
        tiles: !!tileUrl,
        municipalityZoom: parseInt(node.getAttribute("data-municipality-zoom"), 10) || 9
      }).catch(function () { /* the context is decoration; the markers still work */ });
    }
    node.leafletMap = map;  // for the tests and the browser console

    var areaLabels = parseJSON(node.getAttribute("data-areas"), {});
    var onLoaded = null;
    var cluster = L.markerClusterGroup({
      chunkedLoading: true, showCoverageOnHover: false,
      chunkProgress: function (processed, total) {
        if (processed === total && onLoaded) { onLoaded(); onLoaded = null; }
      }
    });
    map.addLayer(cluster);
    var icon = L.divIcon({ className: "map-pin", iconSize: [18, 18], iconAnchor: [9, 9],
                           popupAnchor: [0, -8] });

    fetch(node.getAttribute("data-geojson"), { headers: { "Accept": "application/geo+json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        var markers = [];
        var bounds = L.latLngBounds([]);
        (data.features || []).forEach(function (feature) {
          var c = feature.geometry && feature.geometry.coordinates;
          if (!c) { return; }
          bounds.extend([c[1], c[0]]);
          var props = feature.properties || {};
          var marker = L.marker([c[1], c[0]], {
            icon: icon, title: props.title, alt: props.title, keyboard: true
          });
          marker.bindPopup(function () { return popupContent(props, labels, areaLabels); });
          markers.push(marker);
        });
        if (bounds.isValid()) {
          map.fitBounds(bounds, { maxZoom: 12, padding: [20, 20], animate: false });
        }
        onLoaded = function () {
          node.setAttribute("data-count", String(markers.length));
          say(labels.shown.replace("{num}", String(markers.length)));
          node.classList.add("map-loaded");
        };
        if (markers.length) {
          cluster.addLayers(markers);  // chunkProgress calls onLoaded when all are added
        } else {
          onLoaded();
        }
      })
      .catch(function () { say(labels.error); });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
