/* The context layer under the registry's maps (public map, pin picker): CBS province and
   municipality outlines with their names, from /kaart/context.geojson, so a marker is never
   in an empty plane, also without a tile server.

   Without tiles: the provinces are the land (filled); below the municipality zoom (9) the
   province names are shown, from it the municipality outlines and names. Labels never
   overlap: the one ranked first wins (the municipality with most schools, the smallest
   province); the others hide until there is room (a province name may first move up or down
   within its province). With tiles the tiles carry the place names: only the province
   borders are drawn.

   RegistryMapContext.add(map, url, { tiles: bool, municipalityZoom: 9 }) -> Promise */
(function () {
  "use strict";

  var PAD = 3;  // px between two labels
  var loads = {};

  function load(url) {
    if (!loads[url]) {
      loads[url] = fetch(url).then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.json();
      });
    }
    return loads[url];
  }

  function pane(map, name, zIndex) {
    var node = map.getPane(name) || map.createPane(name);
    node.style.zIndex = String(zIndex);
    return node;
  }

  function labelMarker(feature, kind) {
    var props = feature.properties;
    var outer = document.createElement("div");
    var text = document.createElement("span");
    text.className = "map-label-text";
    text.textContent = props.name;
    outer.appendChild(text);
    var marker = L.marker([props.label[1], props.label[0]], {
      pane: "contextLabels", interactive: false, keyboard: false,
      icon: L.divIcon({ className: "map-label map-label-" + kind, html: outer,
                        iconSize: [0, 0], iconAnchor: [0, 0] })
    });
    return { marker: marker, latlng: marker.getLatLng(), rank: props.rank || 0,
             name: props.name, geometry: feature.geometry };
  }

  /* Even-odd ray casting: is [lon, lat] inside a GeoJSON (Multi)Polygon? */
  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }

  function inGeometry(latlng, geometry) {
    var polygons = geometry.type === "MultiPolygon" ? geometry.coordinates : [geometry.coordinates];
    return polygons.some(function (rings) {
      return inRing(latlng.lng, latlng.lat, rings[0]) &&
        !rings.slice(1).some(function (hole) { return inRing(latlng.lng, latlng.lat, hole); });
    });
  }

  function overlaps(a, b) {
    return a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
  }

  /* Show the labels in rank order where they fit in the view and clear the ones shown.
     ``moves``: how many line heights a label may move up or down to find room, staying on
     its own area (province names may; a municipality name stays where it is). */
  function declutter(map, labels, moves) {
    var size = map.getSize();
    var container = map.getContainer();
    var origin = container.getBoundingClientRect();
    // Keep clear of the zoom buttons and the attribution.
    var taken = Array.prototype.map.call(container.querySelectorAll(".leaflet-control"), function (c) {
      var r = c.getBoundingClientRect();
      return [r.left - origin.left, r.top - origin.top, r.right - origin.left, r.bottom - origin.top];
    });
    var offsets = [0];
    for (var m = 1; m <= (moves || 0); m++) { offsets.push(m, -m); }
    labels.forEach(function (item) {
      var node = item.marker.getElement();
      var text = node && node.firstChild && node.firstChild.firstChild;
      if (!text) { return; }
      if (item.w === undefined) {
        item.w = text.offsetWidth;
        item.h = text.offsetHeight;
      }
      var p = map.latLngToContainerPoint(item.latlng);
      var place = null;
      offsets.some(function (k) {
        var dy = k * (item.h + 2 * PAD);
        var box = [p.x - item.w / 2 - PAD, p.y + dy - item.h / 2 - PAD,
                   p.x + item.w / 2 + PAD, p.y + dy + item.h / 2 + PAD];
        var inside = box[0] >= 0 && box[1] >= 0 && box[2] <= size.x && box[3] <= size.y;
        var own = k === 0 || inGeometry(map.containerPointToLatLng([p.x, p.y + dy]), item.geometry);
        if (inside && own && !taken.some(function (other) { return overlaps(box, other); })) {
          place = { box: box, dy: dy };
        }
        return place !== null;
      });
      if (place) {
        taken.push(place.box);
        text.style.marginTop = place.dy + "px";
      }
      node.classList.toggle("map-label-hidden", !place);
    });
  }

  function show(map, layer, on) {
    if (on && !map.hasLayer(layer)) { map.addLayer(layer); }
    if (!on && map.hasLayer(layer)) { map.removeLayer(layer); }
  }

  function add(map, url, options) {
    options = options || {};
    var tiles = !!options.tiles;
    var detailZoom = options.municipalityZoom || 9;
    pane(map, "contextLabels", 450).setAttribute("aria-hidden", "true");  // under the markers
    return load(url).then(function (data) {
      var provinces = [];
      var municipalities = [];
      (data.features || []).forEach(function (f) {
        (f.properties.kind === "province" ? provinces : municipalities).push(f);
      });
      var fc = function (features) { return { type: "FeatureCollection", features: features }; };
      // The outlines share the overlay pane's SVG; its order is land, municipal borders,
      // province borders (kept on top after each change).
      var land = tiles ? null : L.geoJSON(fc(provinces), {
        interactive: false, style: { stroke: false, fillColor: "#e8eef2", fillOpacity: 1 }
      });
      var borders = L.geoJSON(fc(municipalities), {
        interactive: false, style: { color: "#7b8893", weight: 0.8, fill: false }
      });
      var outlines = L.geoJSON(fc(provinces), {
        interactive: false, attribution: data.attribution || "",
        style: { color: "#4a4a4a", weight: 1.5, fill: false }
      });
      var byRank = function (a, b) { return a.rank - b.rank; };
      var provinceLabels = provinces.map(function (f) { return labelMarker(f, "province"); })
        .sort(byRank);
      var municipalityLabels = municipalities.map(function (f) {
        return labelMarker(f, "municipality");
      }).sort(byRank);
      var provinceGroup = L.layerGroup(provinceLabels.map(function (l) { return l.marker; }));
      var municipalityGroup = L.layerGroup(municipalityLabels.map(function (l) { return l.marker; }));
      if (land) { land.addTo(map).bringToBack(); }
      outlines.addTo(map);

      function update() {
        var detail = map.getZoom() >= detailZoom;
        // Smaller province names when the whole country is small (below zoom 7).
        var small = map.getZoom() < 7;
        if (map.getContainer().classList.contains("map-context-small") !== small) {
          map.getContainer().classList.toggle("map-context-small", small);
          provinceLabels.forEach(function (l) { l.w = undefined; });  // measure again
        }
        if (detail && !tiles && !map.hasLayer(borders)) {
          map.addLayer(borders);
          outlines.bringToFront();
        } else if (!(detail && !tiles) && map.hasLayer(borders)) {
          map.removeLayer(borders);
        }
        show(map, municipalityGroup, detail && !tiles);
        show(map, provinceGroup, !detail && !tiles);
        if (map.hasLayer(municipalityGroup)) { declutter(map, municipalityLabels, 0); }
        if (map.hasLayer(provinceGroup)) { declutter(map, provinceLabels, 2); }
      }
      map.on("zoomend moveend resize", update);
      update();
      return { land: land, borders: borders, outlines: outlines };
    });
  }

  window.RegistryMapContext = { add: add };
})();
