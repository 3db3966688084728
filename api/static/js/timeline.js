// One row per engineer over the shift hours, in the area's local time: the shift, the planned
// break, travel, each visit's promised window with its service bar and the ETA against it.

import { h, STATE_LABEL } from "./dom.js";
import { routeColour } from "./map.js";
import { ceilLocalHour, floorLocalHour, hm, windowText } from "./time.js";

const HOUR = 3600000;
const MAX_MARGIN = 2 * HOUR; // windows beyond the shifts are clipped this far out

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

function pct(axis, t) {
  return ((t - axis.start) / (axis.end - axis.start)) * 100;
}

function span(axis, from, to) {
  const a = Math.max(axis.start, Math.min(axis.end, from));
  const b = Math.max(axis.start, Math.min(axis.end, to));
  return { left: `${pct(axis, a)}%`, width: `${Math.max(0, pct(axis, b) - pct(axis, a))}%` };
}

function hourLines(axis) {
  const lines = [];
  for (let t = axis.start; t <= axis.end; t = floorLocalHour(t + HOUR + 1, axis.timeZone)) {
    lines.push(t);
  }
  return lines;
}

/**
 * Render the timeline of ``plan`` into ``container``.
 * handlers: onVisit(requestId), onDrop(requestId, engineerId)
 */
export function renderTimeline(container, plan, { timeZone, day, now, selected, onVisit, onDrop }) {
  if (!plan || !plan.routes.length) {
    container.replaceChildren(h("p", { class: "tl-empty" }, "No engineers are based in this area."));
    return;
  }
  const axis = axisFor(plan, timeZone, day);
  const hours = hourLines(axis);
  const nowMs = now ? Date.parse(now) : null;
  const showNow = nowMs !== null && nowMs > axis.start && nowMs < axis.end;

  const axisRow = h(
    "div", { class: "tl-axis", "aria-hidden": "true" },
    h("div", { class: "tl-label small muted" }, `Engineer (${timeZone})`),
    h("div", { class: "tl-track" },
      hours.map((t, i) => h("span", {
        class: `tl-tick${i === 0 ? " first" : ""}${i === hours.length - 1 ? " last" : ""}`,
        style: { left: `${pct(axis, t)}%` },
      }, hm(t, timeZone)))),
  );

  const rows = plan.routes.map((route, index) => {
    const track = h("div", { class: "tl-track" });
    for (const t of hours) track.append(h("span", { class: "tl-hour", style: { left: `${pct(axis, t)}%` } }));
    const shift = route.shift;
    if (shift) {
      track.append(h("div", {
        class: "tl-shift", style: span(axis, ms(shift.start), ms(shift.end)),
        title: `shift ${windowText(shift.start, shift.end, timeZone)}`,
      }));
      if (shift.planned_break_start && shift.planned_break_end) {
        track.append(h("div", {
          class: "tl-break", "data-testid": "break-bar",
          style: span(axis, ms(shift.planned_break_start), ms(shift.planned_break_end)),
          title: `break ${windowText(shift.planned_break_start, shift.planned_break_end, timeZone)}`,
        }));
      }
    } else {
      track.append(h("span", { class: "tl-off" }, "no shift this day"));
    }
    for (const v of route.visits) track.append(...visitParts(axis, v, route, timeZone, day, selected, onVisit, now));
    if (showNow) track.append(h("div", { class: "tl-now", style: { left: `${pct(axis, nowMs)}%` }, title: `now ${hm(nowMs, timeZone)}` }));

    const late = route.visits.filter((v) => v.promise_state === "late").length;
    const row = h(
      "div",
      { class: "tl-row", "data-testid": "engineer-row", dataset: { engineerId: route.engineer.id } },
      h("div", { class: "tl-label", title: route.engineer.name },
        h("span", { class: "swatch", style: { background: routeColour(index) } }),
        h("span", {}, route.engineer.name),
        h("span", { class: "sub" }, `${route.visits.length} visit${route.visits.length === 1 ? "" : "s"}${late ? `, ${late} late` : ""}`),
        // An out-of-town trip: where the day starts and where the engineer sleeps.
        route.starts_from ? h("span", { class: "sub trip", "data-testid": "starts-from", title: `the day starts at ${route.starts_from.name}` }, `from ${route.starts_from.name}`) : null,
        route.overnight ? h("span", { class: "sub trip", "data-testid": "overnight", title: `the night at ${route.overnight.name}` }, `night: ${route.overnight.name}`) : null),
      track,
    );
    // Drop target for requests dragged from the unassigned list.
    row.addEventListener("dragover", (event) => {
      if (!event.dataTransfer.types.includes("application/x-onsite-request")) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      row.classList.add("drop-target");
    });
    row.addEventListener("dragleave", () => row.classList.remove("drop-target"));
    row.addEventListener("drop", (event) => {
      row.classList.remove("drop-target");
      const requestId = Number(event.dataTransfer.getData("application/x-onsite-request"));
      if (!requestId) return;
      event.preventDefault();
      onDrop(requestId, route.engineer.id);
    });
    return row;
  });

  container.replaceChildren(h("div", { class: "tl-grid" }, axisRow, rows));
}

/** "DEMO-0040" -> "40"; other references keep their last four characters. */
function shortRef(ref) {
  const match = /^[A-Za-z]+-0*(\d+)$/.exec(ref);
  return match ? match[1] : ref.slice(-4);
}

function visitParts(axis, v, route, timeZone, day, selected, onVisit, now) {
  const parts = [];
  const state = v.promise_state;
  const isSelected = v.request_id === selected;
  const arrival = ms(v.planned_arrival);
  if (v.travel_seconds) {
    parts.push(h("div", {
      class: "tl-travel", "data-testid": "travel-bar",
      style: span(axis, arrival - v.travel_seconds * 1000, arrival),
      title: `travel ${Math.round(v.travel_seconds / 60)} min to ${v.external_ref}`,
    }));
  }
  const wStart = ms(v.window_start);
  const wEnd = ms(v.window_end);
  const clipped = wStart < axis.start || wEnd > axis.end;
  const eta = ms(v.eta);
  const label = `${v.external_ref}, ${v.customer}: promised ${windowText(v.window_start, v.window_end, timeZone, day)}, ` +
    `ETA ${hm(v.eta, timeZone)}, ${STATE_LABEL[state] || state}`;
  const windowBar = h("button", {
    type: "button",
    class: `tl-window state-${state}${clipped ? " clipped" : ""}${isSelected ? " selected" : ""}`,
    "data-testid": "visit-bar",
    dataset: { requestId: v.request_id, visitId: v.visit_id, state },
    style: span(axis, wStart, wEnd),
    title: label,
    "aria-label": label,
    onclick: () => onVisit(v.request_id),
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
  parts.push(h("div", {
    class: `tl-service state-${state} status-${v.status}${locked ? " locked" : ""}${isSelected ? " selected" : ""}`,
    "data-testid": "service-bar",
    dataset: { requestId: v.request_id, status: v.status },
    style: span(axis, ms(from), Math.max(ms(from), ms(to))),
    title: `${v.external_ref} ${done ? (v.completed_at ? "done" : "on site") : "service"} ` +
      `${windowText(from, to, timeZone)}${locked ? " (locked)" : ""}`,
    onclick: () => onVisit(v.request_id),
  }, shortRef(v.external_ref)));
  if (eta !== null) {
    parts.push(h("div", {
      class: "tl-eta", "data-testid": "eta-marker", dataset: { requestId: v.request_id },
      style: { left: `${pct(axis, Math.max(axis.start, Math.min(axis.end, eta)))}%` },
    }));
  }
  return parts;
}
