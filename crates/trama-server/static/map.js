// Progressive enhancement: when Leaflet is loaded, the server-drawn SVG map becomes a Leaflet
// map with the same numbered points. Without scripts, or without Leaflet, the SVG stays.
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
    var map = L.map(el, { scrollWheelZoom: false });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) {
      // If the tiles cannot load (no internet), the points still show on a plain background.
      L.tileLayer(tiles, { attribution: el.getAttribute("data-attribution") || "", maxZoom: 19 }).addTo(map);
    }
    var bounds = [];
    points.forEach(function (p) {
      var icon = L.divIcon({ className: "", html: '<span class="marker">' + p.n + "</span>", iconSize: [28, 28] });
      var m = L.marker([p.lat, p.lon], { icon: icon, title: p.name, alt: p.name }).addTo(map);
      if (p.url) {
        var a = document.createElement("a");
        a.href = p.url;
        a.textContent = p.name;
        m.bindPopup(a);
      }
      bounds.push([p.lat, p.lon]);
    });
    if (data.centre) {
      L.circleMarker(data.centre, { radius: 7, color: "#1b1f24", fillColor: "#f0a500", fillOpacity: 1 }).addTo(map);
      bounds.push(data.centre);
    }
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24] });
    else map.setView(bounds[0], 15);
    if (svg) svg.remove();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
