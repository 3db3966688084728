// The day on a map: Leaflet with vector layers (no tiles by default: the board works offline);
// a base map is drawn under them when the server names a tile server (ONSITE_TILE_URL).

import { routeColour } from "./colours.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { hm } from "./time.js";

const L = window.L;

export const STATE_COLOUR = { on_time: "#15803d", at_risk: "#d97706", late: "#dc2626" };

export class BoardMap {
  /** @param {HTMLElement} el  @param {{onVisit: (requestId: number) => void}} handlers */
  constructor(el, { onVisit, loadConfig }) {
    this.onVisit = onVisit;
    this.loadConfig = loadConfig;
    this.map = L.map(el, {
      zoomControl: true,
      attributionControl: false,
      preferCanvas: false, // SVG paths: inspectable and testable
      zoomSnap: 0.25,
    });
    this.map.setView([31.2, 121.45], 10);
    this.areaLayer = L.layerGroup().addTo(this.map);
    this.routeLayer = L.layerGroup().addTo(this.map);
    this.homeLayer = L.layerGroup().addTo(this.map);
    this.visitLayer = L.layerGroup().addTo(this.map);
    this.markers = new Map();
    this.selected = null;
    this.areas = null;
    this.addBaseMap();
    this.addLegend();
  }

  /** What the marks on the map mean. */
  addLegend() {
    if (this.legend) this.legend.remove();
    const legend = L.control({ position: "bottomleft" });
    legend.onAdd = () => h("div", { class: "map-legend small", "data-testid": "map-legend" },
      h("div", {}, h("span", { class: "lg-dot", style: { background: STATE_COLOUR.on_time } }), t("map.on_time")),
      h("div", {}, h("span", { class: "lg-dot", style: { background: STATE_COLOUR.at_risk } }), t("state.at_risk")),
      h("div", {}, h("span", { class: "lg-dot", style: { background: STATE_COLOUR.late } }), t("state.late")),
      h("div", {}, h("span", { class: "lg-home" }), t("map.home")),
      h("div", {}, h("span", { class: "lg-night" }), t("map.night")),
      h("div", {}, h("span", { class: "lg-position" }), t("map.position")),
      h("div", {}, h("span", { class: "lg-area" }), t("map.area")));
    legend.addTo(this.map);
    this.legend = legend;
  }

  /** Tiles under the vector layers, only when the organisation runs a tile server. */
  async addBaseMap() {
    let config;
    try {
      config = await this.loadConfig();
    } catch {
      return; // the board works without a base map
    }
    if (!config.tile_url) return;
    L.tileLayer(config.tile_url, { attribution: config.tile_attribution || "", maxZoom: 19 })
      .addTo(this.map)
      .bringToBack();
    if (config.tile_attribution) this.map.attributionControl?.addAttribution(config.tile_attribution);
  }

  /** Service-area outlines from GET /v1/service-areas.geojson. */
  setAreas(featureCollection) {
    this.areas = featureCollection;
    this.areaLayer.clearLayers();
    L.geoJSON(featureCollection, {
      interactive: false,
      style: (feature) => ({
        color: feature.properties.engineers_based ? "#334155" : "#94a3b8",
        weight: feature.properties.engineers_based ? 2 : 1.5,
        dashArray: feature.properties.engineers_based ? null : "6 4",
        fillColor: "#ffffff",
        fillOpacity: 0.55,
        className: "area-outline",
      }),
      onEachFeature: (feature, layer) => {
        // Area names are data: a text node, never a string Leaflet would parse as markup.
        layer.bindTooltip(h("span", {}, feature.properties.name), {
          permanent: true, direction: "center", className: "area-label",
        });
      },
    }).addTo(this.areaLayer);
  }

  /** Draw a day's plan: homes, route lines and visits, and fit the selected area. */
  showPlan(plan, areaId, timeZone) {
    this.routeLayer.clearLayers();
    this.homeLayer.clearLayers();
    this.visitLayer.clearLayers();
    this.markers.clear();
    const bounds = L.latLngBounds([]);
    const area = this.areas && this.areas.features.find((f) => f.properties.id === areaId);
    if (area) bounds.extend(L.geoJSON(area).getBounds());

    (plan ? plan.routes : []).forEach((route, index) => {
      const colour = routeColour(index);
      const home = [route.engineer.home.lat, route.engineer.home.lon];
      bounds.extend(home);
      L.marker(home, {
        keyboard: false,
        icon: L.divIcon({
          className: "",
          // An element, not an HTML string: nothing from the data is ever parsed as markup.
          html: h("div", { class: "home-icon", style: { background: colour } }),
          iconSize: [10, 10],
          iconAnchor: [5, 5],
        }),
        title: t("map.home_of", { name: route.engineer.name }),
      }).addTo(this.homeLayer);
      const seen = route.engineer.position;
      if (seen) {
        // Where the engineer last said they were (the app's location reports), and when.
        L.marker([seen.lat, seen.lon], {
          keyboard: false,
          icon: L.divIcon({
            className: "",
            html: h("div", { class: "position-icon", "data-testid": "engineer-position", style: { background: colour } }),
            iconSize: [14, 14],
            iconAnchor: [7, 7],
          }),
          title: t("map.seen_at", { name: route.engineer.name, time: hm(seen.at, timeZone) }),
        }).addTo(this.homeLayer);
        bounds.extend([seen.lat, seen.lon]);
      }
      // A trip's day starts where the engineer slept and may end at a lodging.
      const first = route.starts_from ? [route.starts_from.lat, route.starts_from.lon] : home;
      const last = route.overnight ? [route.overnight.lat, route.overnight.lon] : home;
      if (route.overnight) {
        bounds.extend(last);
        L.marker(last, {
          keyboard: false,
          icon: L.divIcon({
            className: "",
            html: h("div", { class: "night-icon", style: { borderColor: colour } }),
            iconSize: [12, 12],
            iconAnchor: [6, 6],
          }),
          title: t("map.night_of", { name: route.engineer.name, place: route.overnight.name }),
        }).addTo(this.homeLayer);
      }
      if (!route.visits.length && !route.overnight && !route.starts_from) return;
      const points = [first, ...route.visits.map((v) => [v.site.lat, v.site.lon]), last];
      L.polyline(points, {
        color: colour, weight: 2.5, opacity: 0.7, className: "route-line", interactive: false,
      }).addTo(this.routeLayer);
      for (const visit of route.visits) {
        const at = [visit.site.lat, visit.site.lon];
        bounds.extend(at);
        const marker = L.circleMarker(at, {
          radius: 7,
          color: "#ffffff",
          weight: 2,
          fillColor: STATE_COLOUR[visit.promise_state] || "#64748b",
          fillOpacity: 0.95,
          className: `visit-marker state-${visit.promise_state}`,
        });
        // Customer names, references and engineer names are data: text nodes only.
        const tip = h(
          "div",
          { class: "visit-tip" },
          h("div", {}, `${visit.external_ref} · ${visit.customer}`),
          h("div", {}, `${route.engineer.name}, #${visit.sequence + 1} · ${t("move.eta", { time: hm(visit.eta, timeZone) })}`),
        );
        marker.bindTooltip(tip, { direction: "top", offset: [0, -6] });
        marker.on("click", () => this.onVisit(visit.request_id));
        marker.addTo(this.visitLayer);
        this.markers.set(visit.request_id, marker);
      }
    });
    if (bounds.isValid()) this.map.fitBounds(bounds, { padding: [16, 16] });
    this.select(this.selected);
    if (this.shows) this.filter(this.shows, true);
  }

  /** Fade the markers of visits the search or filters leave out (``active`` false: none). */
  filter(shows, active) {
    this.shows = active ? shows : null;
    for (const [id, marker] of this.markers) {
      const on = !this.shows || this.shows(id);
      marker.setStyle({ fillOpacity: on ? 0.95 : 0.15, opacity: on ? 1 : 0.3 });
    }
  }

  /** Emphasise one visit's marker (or none). */
  select(requestId) {
    this.selected = requestId;
    for (const [id, marker] of this.markers) {
      const on = id === requestId;
      marker.setStyle({ radius: on ? 10 : 7, color: on ? "#0f172a" : "#ffffff", weight: on ? 3 : 2 });
      if (on) marker.bringToFront();
    }
  }

  /** Leaflet must re-measure after its container was hidden or resized. */
  resize() {
    this.map.invalidateSize();
  }
}
