// One row per engineer over the shift hours, in the area's local time: the shift, the planned
// break, travel, each visit's promised window with its service bar and the ETA against it.

import { h, stateLabel } from "./dom.js";
import { isActive, matches, namedBy, NO_FILTERS } from "./find.js";
import { t } from "./i18n.js";
import { routeColour } from "./colours.js";
import { ceilLocalHour, floorLocalHour, hm, windowText } from "./time.js";

const HOUR = 3600000;
const MAX_MARGIN = 2 * HOUR; // windows beyond the shifts are clipped this far out
const SNAP = 5 * 60000; // a dropped visit lands on a five-minute mark
export const MOVABLE = new Set(["planned", "accepted"]);
export const VISIT_TYPE = "application/x-onsite-visit";
const REQUEST_TYPE = "application/x-onsite-request";

// The visit being dragged (dataTransfer cannot be read until the drop).
let dragging = null;

const ms = (iso) => (iso ? Date.parse(iso) : null);

/** The axis: local full hours around the shifts (and the planned work that overruns them). */
export function axisFor(plan, timeZone, day) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const route of plan.routes) {
    if (route.shift) {
      lo = Math.min(lo, ms(route.shift.start));
      hi = Math.max(hi, ms(route.shift.end));
    }
    for (const v of route.visits) {
      const travelStart = ms(v.planned_arrival) - (v.travel_seconds || 0) * 1000;
      lo = Math.min(lo, travelStart);
      hi = Math.max(hi, ms(v.planned_end), ms(v.eta) || -Infinity);
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    // No shifts and no visits: show the working day.
    const noon = Date.parse(`${day}T12:00:00Z`);
    lo = noon - 4 * HOUR;
    hi = noon + 6 * HOUR;
  }
  // Windows may reach further out (an urgent request promised overnight); include them, up to
  // a margin, so the axis stays on the working day.
  let wlo = lo;
  let whi = hi;
  for (const route of plan.routes) {
    for (const v of route.visits) {
      wlo = Math.min(wlo, Math.max(ms(v.window_start), lo - MAX_MARGIN));
      whi = Math.max(whi, Math.min(ms(v.window_end), hi + MAX_MARGIN));
    }
  }
  const start = floorLocalHour(wlo, timeZone);
  const end = ceilLocalHour(whi, timeZone);
  return { start, end: Math.max(end, start + HOUR), timeZone };
}

function pct(axis, at) {
  return ((at - axis.start) / (axis.end - axis.start)) * 100;
}

function span(axis, from, to) {
  const a = Math.max(axis.start, Math.min(axis.end, from));
  const b = Math.max(axis.start, Math.min(axis.end, to));
  return { left: `${pct(axis, a)}%`, width: `${Math.max(0, pct(axis, b) - pct(axis, a))}%` };
}

function hourLines(axis) {
  const lines = [];
  for (let at = axis.start; at <= axis.end; at = floorLocalHour(at + HOUR + 1, axis.timeZone)) {
    lines.push(at);
  }
  return lines;
}

/** The instant ``ms`` moved onto the nearest five-minute mark. */
export function snapTime(ms) {
  return Math.round(ms / SNAP) * SNAP;
}

/** The instant under ``clientX`` on a track whose box is ``rect``. */
function timeAt(axis, rect, clientX) {
  const share = Math.max(0, Math.min(1, (clientX - rect.left) / Math.max(1, rect.width)));
  return axis.start + share * (axis.end - axis.start);
}

/**
 * Render the timeline of ``plan`` into ``container``.
 * handlers: onVisit(requestId, {toggle}), onDrop(requestId, engineerId) for a request from the
 * unassigned list, onPreview(move) while a visit is dragged over a row, onMove(move) when it is
 * dropped, onDragEnd(); a move is {requestIds, engineerId, arrival (ISO, or null for the best
 * place: another engineer's row, or several visits)}. ``chosen`` is the set of request ids
 * selected together (ctrl- or shift-click), moved together.
 */
export function renderTimeline(container, plan, {
  timeZone, day, now, selected, chosen = new Set(), filters = NO_FILTERS,
  onVisit, onDrop, onPreview, onMove, onDragEnd,
}) {
  if (!plan || !plan.routes.length) {
    container.replaceChildren(h("p", { class: "tl-empty" }, t("timeline.no_engineers")));
    return;
  }
  const axis = axisFor(plan, timeZone, day);
  const hours = hourLines(axis);
  const nowMs = now ? Date.parse(now) : null;
  const showNow = nowMs !== null && nowMs > axis.start && nowMs < axis.end;

  const axisRow = h(
    "div", { class: "tl-axis", "aria-hidden": "true" },
    h("div", { class: "tl-label small muted" }, t("timeline.engineer_tz", { tz: timeZone })),
    h("div", { class: "tl-track" },
      hours.map((at, i) => h("span", {
        class: `tl-tick${i === 0 ? " first" : ""}${i === hours.length - 1 ? " last" : ""}`,
        style: { left: `${pct(axis, at)}%` },
      }, hm(at, timeZone)))),
  );

  const rows = plan.routes.map((route, index) => {
    const track = h("div", { class: "tl-track" });
    for (const at of hours) track.append(h("span", { class: "tl-hour", style: { left: `${pct(axis, at)}%` } }));
    const shift = route.shift;
    if (shift) {
      track.append(h("div", {
        class: "tl-shift", style: span(axis, ms(shift.start), ms(shift.end)),
        title: t("timeline.shift", { window: windowText(shift.start, shift.end, timeZone) }),
      }));
      if (shift.planned_break_start && shift.planned_break_end) {
        track.append(h("div", {
          class: "tl-break", "data-testid": "break-bar",
          style: span(axis, ms(shift.planned_break_start), ms(shift.planned_break_end)),
          // A break after its window waited for urgent work (the planner's rule): say so.
          title: t(shift.break_end && ms(shift.planned_break_end) > ms(shift.break_end) + 60000
            ? "timeline.break_waited" : "timeline.break",
          { window: windowText(shift.planned_break_start, shift.planned_break_end, timeZone) }),
        }));
      }
    } else {
      track.append(h("span", { class: "tl-off" }, t("timeline.no_shift")));
    }
    const pick = { selected, chosen, onVisit };
    const filtering = isActive(filters);
    let shown = 0;
    for (const v of route.visits) {
      const hit = matches(v, filters, route.engineer.name);
      shown += hit ? 1 : 0;
      const parts = visitParts(axis, v, route, timeZone, day, pick, now);
      if (filtering && !hit) for (const part of parts) part.classList.add("dim");
      track.append(...parts);
    }
    // An engineer found by name shows even on a day without visits.
    const named = namedBy(filters, route.engineer.name);
    if (showNow) track.append(h("div", { class: "tl-now", style: { left: `${pct(axis, nowMs)}%` }, title: t("timeline.now", { time: hm(nowMs, timeZone) }) }));

    const late = route.visits.filter((v) => v.promise_state === "late").length;
    const row = h(
      "div",
      {
        class: `tl-row${filtering && !shown && !named ? " filtered-out" : ""}`,
        "data-testid": "engineer-row", dataset: { engineerId: route.engineer.id },
      },
      h("div", { class: "tl-label", title: route.engineer.name },
        h("span", { class: "swatch", style: { background: routeColour(index) } }),
        h("span", {}, route.engineer.name),
        h("span", { class: "sub" }, late
          ? t("timeline.visits_late", { count: route.visits.length, late })
          : t("timeline.visits", { count: route.visits.length })),
        // An out-of-town trip: where the day starts and where the engineer sleeps.
        route.starts_from ? h("span", { class: "sub trip", "data-testid": "starts-from", title: t("timeline.starts_at", { place: route.starts_from.name }) }, t("timeline.from", { place: route.starts_from.name })) : null,
        route.overnight ? h("span", { class: "sub trip", "data-testid": "overnight", title: t("timeline.night_at", { place: route.overnight.name }) }, t("timeline.night", { place: route.overnight.name })) : null),
      track,
    );
    const ghost = h("div", { class: "tl-ghost", "data-testid": "drop-ghost", hidden: true });
    track.append(ghost);
    // Where a dragged visit would land: the time under the pointer (less where the bar was
    // grabbed) on its own row; the best place on another engineer's, or for several visits.
    const landing = (event) => {
      const start = snapTime(timeAt(axis, track.getBoundingClientRect(), event.clientX) - dragging.grabMs);
      const own = dragging.requestIds.length === 1 && dragging.engineerId === route.engineer.id;
      return { start, arrival: own ? new Date(start).toISOString() : null };
    };
    row.addEventListener("dragover", (event) => {
      const types = event.dataTransfer.types;
      if (types.includes(VISIT_TYPE) && dragging) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        row.classList.add("drop-target");
        const { start, arrival } = landing(event);
        ghost.hidden = false;
        Object.assign(ghost.style, span(axis, start, start + dragging.serviceMs));
        ghost.textContent = arrival ? hm(start, timeZone) : t("timeline.best_place");
        if (onPreview) onPreview({ requestIds: dragging.requestIds, engineerId: route.engineer.id, arrival });
        return;
      }
      if (!types.includes(REQUEST_TYPE)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      row.classList.add("drop-target");
    });
    row.addEventListener("dragleave", (event) => {
      if (event.relatedTarget && row.contains(event.relatedTarget)) return;
      row.classList.remove("drop-target");
      ghost.hidden = true;
    });
    row.addEventListener("drop", (event) => {
      row.classList.remove("drop-target");
      ghost.hidden = true;
      if (event.dataTransfer.types.includes(VISIT_TYPE) && dragging) {
        event.preventDefault();
        const { arrival } = landing(event);
        const move = { requestIds: dragging.requestIds, engineerId: route.engineer.id, arrival };
        dragging = null;
        if (onMove) onMove(move);
        return;
      }
      const requestId = Number(event.dataTransfer.getData(REQUEST_TYPE));
      if (!requestId) return;
      event.preventDefault();
      onDrop(requestId, route.engineer.id);
    });
    return row;
  });
  // A drag that ends anywhere else changes nothing.
  container.ondragend = () => {
    dragging = null;
    for (const g of container.querySelectorAll(".tl-ghost")) g.hidden = true;
    for (const r of container.querySelectorAll(".drop-target")) r.classList.remove("drop-target");
    if (onDragEnd) onDragEnd();
  };

  container.replaceChildren(h("div", { class: "tl-grid" }, axisRow, rows));
}

/** "DEMO-0040" -> "40", "CRM-261123-018" -> "18": the reference's closing number; other
 * references keep their last four characters. */
export function shortRef(ref) {
  const match = /(?:^|\D)0*(\d+)$/.exec(ref);
  return match ? match[1] : ref.slice(-4);
}

/** A visit in words, for its bar's title and screen readers. */
export function visitLabel(v, timeZone, day) {
  return t("timeline.visit_label", {
    ref: v.external_ref, customer: v.customer,
    window: windowText(v.window_start, v.window_end, timeZone, day),
    eta: hm(v.eta, timeZone), state: stateLabel(v.promise_state),
  });
}

function visitParts(axis, v, route, timeZone, day, { selected, chosen, onVisit }, now) {
  const parts = [];
  const state = v.promise_state;
  const isSelected = v.request_id === selected || chosen.has(v.request_id);
  const movable = MOVABLE.has(v.status);
  const pick = (event) => onVisit(v.request_id, { toggle: event.ctrlKey || event.metaKey || event.shiftKey });
  // A movable visit is dragged by its bars: alone, or with the others selected with it.
  const drag = (event) => {
    const rect = event.currentTarget.parentElement.getBoundingClientRect();
    const together = chosen.has(v.request_id) && chosen.size > 1 ? [...chosen] : [v.request_id];
    dragging = {
      requestIds: together,
      engineerId: route.engineer.id,
      grabMs: timeAt(axis, rect, event.clientX) - ms(v.planned_start),
      serviceMs: v.service_minutes * 60000,
    };
    event.dataTransfer.setData(VISIT_TYPE, String(v.request_id));
    event.dataTransfer.effectAllowed = "move";
  };
  const arrival = ms(v.planned_arrival);
  if (v.travel_seconds) {
    parts.push(h("div", {
      class: "tl-travel", "data-testid": "travel-bar",
      style: span(axis, arrival - v.travel_seconds * 1000, arrival),
      title: t("timeline.travel_to", { minutes: Math.round(v.travel_seconds / 60), ref: v.external_ref }),
    }));
  }
  const wStart = ms(v.window_start);
  const wEnd = ms(v.window_end);
  const clipped = wStart < axis.start || wEnd > axis.end;
  const eta = ms(v.eta);
  const label = visitLabel(v, timeZone, day);
  const windowBar = h("button", {
    type: "button",
    class: `tl-window state-${state}${clipped ? " clipped" : ""}${isSelected ? " selected" : ""}`,
    "data-testid": "visit-bar",
    dataset: { requestId: v.request_id, visitId: v.visit_id, state },
    style: span(axis, wStart, wEnd),
    title: label,
    "aria-label": label,
    "aria-pressed": chosen.has(v.request_id) ? "true" : null,
    draggable: movable ? "true" : null,
    ondragstart: movable ? drag : null,
    onclick: pick,
  });
  parts.push(windowBar);
  if (eta !== null && eta > wEnd && wEnd < axis.end) {
    // How far the ETA lies past the promise.
    parts.push(h("div", { class: "tl-late-gap", style: span(axis, wEnd, eta) }));
  }
  // Work done or under way is drawn where it really happened (arrival to completion, or to
  // now), styled apart from the plan; the rest at its planned times.
  const done = v.arrived_at !== null && v.arrived_at !== undefined;
  const from = done ? v.arrived_at : v.planned_start;
  const to = done ? (v.completed_at || (now ? new Date(now).toISOString() : v.planned_end)) : v.planned_end;
  const locked = v.lock && v.lock !== "none";
  const overrides = v.overrides || [];
  const what = done ? (v.completed_at ? "timeline.done" : "timeline.on_site") : "timeline.service";
  const notes = [
    locked ? t("timeline.locked", { lock: t(`lock.${v.lock}`) }) : null,
    overrides.length ? t("timeline.overrides", { codes: overrides.map((c) => t(`warning.${c}`)).join(", ") }) : null,
  ].filter(Boolean);
  parts.push(h("div", {
    class: `tl-service state-${state} status-${v.status}${locked ? " locked" : ""}` +
      `${overrides.length ? " override" : ""}${isSelected ? " selected" : ""}`,
    "data-testid": "service-bar",
    dataset: { requestId: v.request_id, status: v.status, overrides: overrides.join(" ") },
    style: span(axis, ms(from), Math.max(ms(from), ms(to))),
    title: `${v.external_ref} ${t(what)} ${windowText(from, to, timeZone)}` +
      (notes.length ? ` (${notes.join("; ")})` : ""),
    draggable: movable ? "true" : null,
    ondragstart: movable ? drag : null,
    onclick: pick,
  }, overrides.length ? h("span", { class: "ov-mark", "aria-hidden": "true" }, "!") : null, shortRef(v.external_ref)));
  if (eta !== null) {
    parts.push(h("div", {
      class: "tl-eta", "data-testid": "eta-marker", dataset: { requestId: v.request_id },
      style: { left: `${pct(axis, Math.max(axis.start, Math.min(axis.end, eta)))}%` },
    }));
  }
  return parts;
}
