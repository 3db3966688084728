// Several days side by side (2-7): one row per engineer, one column per day, each day's
// visits on that day's working hours; trips show where the engineer sleeps. A visit opens
// its day on the full timeline.

import { h } from "./dom.js";
import { isActive, matches, NO_FILTERS } from "./find.js";
import { t } from "./i18n.js";
import { routeColour } from "./colours.js";
import { axisFor, visitLabel } from "./timeline.js";
import { dayText, hm } from "./time.js";

const ms = (iso) => (iso ? Date.parse(iso) : null);

function place(axis, from, to) {
  const total = axis.end - axis.start;
  const a = Math.max(0, Math.min(1, (from - axis.start) / total));
  const b = Math.max(0, Math.min(1, (to - axis.start) / total));
  return { left: `${a * 100}%`, width: `${Math.max(0.8, (b - a) * 100)}%` };
}

/**
 * Render ``plans`` (one per day, in order, all of one area) into ``container``.
 * onVisit(day, requestId) opens a visit on its day.
 */
export function renderMultiDay(container, plans, { timeZone, filters = NO_FILTERS, onVisit }) {
  const days = plans.map((p) => p.date);
  const engineers = new Map();
  plans.forEach((plan) => plan.routes.forEach((route) => {
    if (!engineers.has(route.engineer.id)) engineers.set(route.engineer.id, route.engineer);
  }));
  if (!engineers.size) {
    container.replaceChildren(h("p", { class: "tl-empty" }, t("timeline.no_engineers")));
    return;
  }
  const axes = plans.map((plan) => axisFor(plan, timeZone, plan.date));
  const columns = { gridTemplateColumns: `minmax(110px, 170px) repeat(${days.length}, minmax(150px, 1fr))` };
  const filtering = isActive(filters);
  const head = h("div", { class: "md-row md-head", style: columns },
    h("div", { class: "md-label small muted" }, t("timeline.engineer_tz", { tz: timeZone })),
    plans.map((plan, i) => {
      const visits = plan.routes.reduce((n, r) => n + r.visits.length, 0);
      return h("div", { class: "md-day", "data-testid": "multiday-day", dataset: { day: plan.date } },
        h("strong", {}, dayText(plan.date)), " ",
        h("span", { class: "muted small" }, `${hm(axes[i].start, timeZone)}–${hm(axes[i].end, timeZone)} · ${t("timeline.visits", { count: visits })}`));
    }));
  const rows = [...engineers.values()].map((engineer, index) => h("div", { class: "md-row", style: columns, "data-testid": "multiday-row", dataset: { engineerId: engineer.id } },
    h("div", { class: "md-label", title: engineer.name },
      h("span", { class: "swatch", style: { background: routeColour(index) } }), h("span", {}, engineer.name)),
    plans.map((plan, i) => {
      const route = plan.routes.find((r) => r.engineer.id === engineer.id);
      const cell = h("div", { class: "md-cell" });
      if (!route || !route.shift) {
        cell.append(h("span", { class: "tl-off" }, t("timeline.no_shift")));
        return cell;
      }
      const axis = axes[i];
      cell.append(h("div", { class: "tl-shift", style: place(axis, ms(route.shift.start), ms(route.shift.end)) }));
      for (const v of route.visits) {
        const done = v.arrived_at !== null && v.arrived_at !== undefined;
        const from = ms(done ? v.arrived_at : v.planned_start);
        const to = ms(done ? (v.completed_at || v.planned_end) : v.planned_end);
        const hit = matches(v, filters, engineer.name);
        const label = visitLabel(v, timeZone, plan.date);
        cell.append(h("button", {
          type: "button",
          class: `md-visit state-${v.promise_state} status-${v.status}${filtering && !hit ? " dim" : ""}`,
          "data-testid": "multiday-visit", dataset: { requestId: v.request_id, day: plan.date },
          style: place(axis, from, Math.max(from, to)),
          title: label, "aria-label": label,
          onclick: () => onVisit(plan.date, v.request_id),
        }));
      }
      const notes = [
        route.starts_from ? t("timeline.from", { place: route.starts_from.name }) : null,
        route.overnight ? t("timeline.night", { place: route.overnight.name }) : null,
      ].filter(Boolean);
      if (notes.length) cell.append(h("span", { class: "md-trip sub trip", "data-testid": "multiday-trip" }, notes.join(" · ")));
      return cell;
    })));
  const grid = h("div", { class: "md-grid" }, head, rows);
  container.replaceChildren(grid);
}
