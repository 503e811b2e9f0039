// Progressive enhancement: when Leaflet is loaded, the server-drawn SVG map becomes a Leaflet
// map with the same numbered points over the same areas of the territory (its base map, so the
// map reads offline); tiles go on top only where the territory configured them. Without
// scripts, or without Leaflet, the SVG stays.
(function () {
  "use strict";
  function start() {
    var el = document.getElementById("map");
    if (!el || !window.L) return;
    var data;
    try { data = JSON.parse(el.getAttribute("data-map") || "{}"); } catch (e) { return; }
    var points = data.points || [];
    if (!points.length && !data.centre) return;
    var svg = el.querySelector("svg");
    var tiles = el.getAttribute("data-tiles");
    var hasAreas = data.areas && data.areas.features && data.areas.features.length;
    var areas = hasAreas
      ? L.geoJSON(data.areas, {
          interactive: false,
          style: function () {
            return { color: "#8d98a8", weight: 1, fillColor: "#f7f4ec", fillOpacity: tiles ? 0.25 : 1 };
          },
        })
      : null;
    var bounds = points.map(function (p) { return [p.lat, p.lon]; });
    if (data.centre) bounds.push(data.centre);
    // The view comes first: layers with names on them need one.
    var map = L.map(el, { scrollWheelZoom: false });
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24] });
    else if (areas) map.fitBounds(areas.getBounds());
    else map.setView(bounds[0], 15);
    if (tiles) {
      // If the tiles cannot load (no internet), the areas and points still show.
      L.tileLayer(tiles, { attribution: el.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(map);
    }
    if (areas) {
      areas.addTo(map);
      areas.eachLayer(function (layer) {
        var f = layer.feature;
        if (f && f.properties && f.properties.name) {
          layer.bindTooltip(f.properties.name, { permanent: true, direction: "center", className: "area-label" });
        }
      });
    }
    points.forEach(function (p) {
      var icon = L.divIcon({ className: "", html: '<span class="marker">' + p.n + "</span>", iconSize: [28, 28] });
      var m = L.marker([p.lat, p.lon], { icon: icon, title: p.name, alt: p.name }).addTo(map);
      if (p.url) {
        var a = document.createElement("a");
        a.href = p.url;
        a.textContent = p.name;
        m.bindPopup(a);
      }
    });
    if (data.centre) {
      L.circleMarker(data.centre, { radius: 7, color: "#1b1f24", fillColor: "#f0a500", fillOpacity: 1 }).addTo(map);
    }
    if (svg) svg.remove();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

// "Use my position": with scripts and a browser that knows where it is, the search form takes
// its coordinates instead of a place of the list. Without them the button stays hidden.
(function () {
  "use strict";
  var b = document.getElementById("my-position");
  if (!b || !navigator.geolocation) return;
  b.hidden = false;
  b.addEventListener("click", function () {
    var f = b.form;
    navigator.geolocation.getCurrentPosition(function (pos) {
      f.elements.lat.value = pos.coords.latitude.toFixed(5);
      f.elements.lon.value = pos.coords.longitude.toFixed(5);
      f.elements.luogo.value = "";
      f.elements.indirizzo.value = "";
      f.submit();
    }, function () {
      // Refused or unknown: say so next to the button, and the other ways remain.
      var note = document.getElementById("my-position-note");
      if (note) note.hidden = false;
    });
  });
})();
