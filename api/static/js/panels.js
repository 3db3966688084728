// The sidebar's panels: unassigned requests (with the assignment check), a visit's details,
// alerts, and the dispatch run's progress with its before/after KPIs.

import { h, replace, setStatus, stateChip, tierChip } from "./dom.js";
import { dayHm, hm, minutesText, windowText } from "./time.js";

// ----------------------------------------------------------------------------- unassigned

/**
 * Render the unassigned list. ctx: {plan, timeZone, day, onCheck(requestId, engineerId),
 * onAssign(requestId), checks: Map(requestId -> check result or error)}
 */
export function renderUnassigned(list, ctx) {
  const { plan, timeZone, day } = ctx;
  const items = plan ? plan.unassigned : [];
  if (!items.length) {
    replace(list, h("li", { class: "muted" }, "Every request of the day has an engineer."));
    return;
  }
  const engineers = plan.routes.map((r) => r.engineer);
  replace(list, items.map((u) => unassignedItem(u, engineers, ctx, timeZone, day)));
}

/** A ranked engineer as the picker lists them: name, ETA, drive, warnings. */
function candidateLabel(c, timeZone) {
  if (!c.available) return `${c.name} (${c.reason})`;
  const levels = c.skills.map((s) => `${s.skill} ${s.level}`).join(", ");
  const warn = c.warnings.length ? ` · ${c.warnings.length} warning${c.warnings.length === 1 ? "" : "s"}` : "";
  const drive = c.travel_to_site_s === null ? "" : ` · ${Math.round(c.travel_to_site_s / 60)} min drive`;
  return `${c.name} · ETA ${hm(c.eta, timeZone)}${drive}${levels ? ` · ${levels}` : ""}${warn}`;
}

function unassignedItem(u, engineers, ctx, timeZone, day) {
  const selectId = `pick-${u.request_id}`;
  const chosen = ctx.picks.get(u.request_id);
  const ranked = ctx.ranked ? ctx.ranked.get(u.request_id) : null;
  const showAll = ctx.showAll ? ctx.showAll.has(u.request_id) : false;
  let options;
  if (ranked) {
    // Ranked for this request: the qualified by their check, the others only when asked.
    const fit = ranked.filter((c) => c.qualified && c.available);
    const rest = ranked.filter((c) => !(c.qualified && c.available));
    options = [
      ...fit.map((c) => h("option", { value: c.engineer_id, selected: chosen === c.engineer_id }, candidateLabel(c, timeZone))),
      showAll && rest.length
        ? h("optgroup", { label: "Not qualified or not working" },
          rest.map((c) => h("option", { value: c.engineer_id, selected: chosen === c.engineer_id }, candidateLabel(c, timeZone))))
        : null,
    ];
  } else {
    options = engineers.map((e) => h("option", { value: e.id, selected: chosen === e.id }, e.name));
  }
  const select = h("select", { id: selectId, "data-testid": "assign-engineer" },
    h("option", { value: "" }, ranked ? "Pick an engineer (ranked)…" : "Pick an engineer…"),
    options);
  select.addEventListener("change", () => ctx.picks.set(u.request_id, Number(select.value) || null));
  const check = h("button", {
    type: "button", "data-testid": "assign-check",
    onclick: () => {
      const engineerId = Number(select.value);
      if (!engineerId) {
        select.focus();
        ctx.onMessage("Pick an engineer first.", "bad");
        return;
      }
      ctx.onCheck(u.request_id, engineerId);
    },
  }, "Check");
  const li = h("li", {
    class: "unassigned-item", draggable: "true", "data-testid": "unassigned-item",
    dataset: { requestId: u.request_id },
  },
  h("div", { class: "card-title" },
    h("strong", {}, u.external_ref), tierChip(u.tier), stateChip(u.promise_state),
    h("span", { class: "muted small" }, `${u.service_minutes} min`)),
  h("div", { class: "small" }, u.customer),
  h("div", { class: "small muted" }, `${u.site.address}`),
  h("div", { class: "small" }, `Promised ${windowText(u.window_start, u.window_end, timeZone, day)}`),
  u.skills.length
    ? h("div", { class: "small muted" }, `Skills: ${u.skills.map((s) => `${s.skill} ≥${s.min_level}`).join(", ")}`)
    : null,
  h("p", { class: "reason", "data-testid": "unassigned-reason" }, h("code", {}, u.reason), " ", u.message),
  h("div", { class: "assign-row" },
    select, check),
  ctx.onRank
    ? h("div", { class: "assign-row small" },
      h("button", {
        type: "button", "data-testid": "assign-rank",
        onclick: () => ctx.onRank(u.request_id),
      }, ranked ? "Rank again" : "Rank engineers"),
      ranked
        ? h("label", {},
          h("input", {
            type: "checkbox", "data-testid": "assign-show-all", checked: showAll,
            onchange: (event) => ctx.onShowAll(u.request_id, event.target.checked),
          }), " show the unqualified")
        : null)
    : null,
  checkResult(u, ctx, timeZone));
  select.setAttribute("aria-label", `Engineer for ${u.external_ref}`);
  li.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData("application/x-onsite-request", String(u.request_id));
    event.dataTransfer.effectAllowed = "move";
    li.classList.add("dragging");
  });
  li.addEventListener("dragend", () => li.classList.remove("dragging"));
  return li;
}

function checkResult(u, ctx, timeZone) {
  const result = ctx.checks.get(u.request_id);
  if (!result) return null;
  if (result.error) {
    return h("div", { class: "check-result error", role: "alert", "data-testid": "check-error" }, result.error);
  }
  const engineer = ctx.plan.routes.find((r) => r.engineer.id === result.engineer_id);
  const name = engineer ? engineer.engineer.name : `engineer ${result.engineer_id}`;
  const warnings = result.warnings || [];
  return h("div", { class: "check-result", "data-testid": "check-result" },
    h("div", {}, `${name}: ETA `, h("strong", { "data-testid": "check-eta" }, hm(result.eta, timeZone)),
      `, stop ${result.position + 1} of ${result.route.length}.`),
    warnings.length
      ? h("ul", { class: "warn", "data-testid": "assign-warnings" },
        warnings.map((w) => h("li", { dataset: { code: w.code } }, h("code", {}, w.code), " ", w.message)))
      : h("div", { class: "ok" }, "No warnings."),
    h("div", { class: "button-row" },
      h("button", {
        type: "button", class: warnings.length ? "danger" : "primary", "data-testid": "assign-commit",
        onclick: () => ctx.onAssign(u.request_id),
      }, warnings.length ? "Assign despite warnings…" : "Assign")));
}

// ----------------------------------------------------------------------------- visit

/** The selected visit's details with lock and unassign actions. */
export function renderVisit(el, { visit, route, timeZone, day, onLock, onUnlock, onUnassign }) {
  if (!visit) {
    replace(el, h("p", { class: "muted" }, "Select a visit on the map or the timeline."));
    return;
  }
  const locked = visit.lock && visit.lock !== "none";
  const row = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  replace(el,
    h("div", { class: "card-title" },
      h("strong", { "data-testid": "visit-ref" }, visit.external_ref), tierChip(visit.tier), stateChip(visit.promise_state)),
    h("div", {}, visit.customer),
    h("dl", { class: "details" },
      row("Engineer", `${route.engineer.name} (stop ${visit.sequence + 1})`),
      row("Site", `${visit.site.name}, ${visit.site.address}`),
      row("Promised", windowText(visit.window_start, visit.window_end, timeZone, day)),
      row("ETA", hm(visit.eta, timeZone)),
      row("Service", `${windowText(visit.planned_start, visit.planned_end, timeZone, day)} (${visit.service_minutes} min)`),
      row("Travel", minutesText((visit.travel_seconds || 0) / 60)),
      row("Status", visit.status),
      visit.arrived_at ? row("Arrived", dayHm(visit.arrived_at, timeZone)) : null,
      visit.skills.length ? row("Skills", visit.skills.map((s) => `${s.skill} ≥${s.min_level}`).join(", ")) : null,
      row("Lock", locked ? `${visit.lock}${visit.locked_arrival ? ` at ${hm(visit.locked_arrival, timeZone)}` : ""}` : "none")),
    h("div", { class: "button-row" },
      h("button", { type: "button", onclick: () => onLock(visit.visit_id, "engineer") }, "Lock engineer"),
      h("button", { type: "button", onclick: () => onLock(visit.visit_id, "time") }, "Lock time"),
      h("button", { type: "button", onclick: () => onLock(visit.visit_id, "both") }, "Lock both"),
      h("button", { type: "button", disabled: !locked, onclick: () => onUnlock(visit.visit_id) }, "Unlock"),
      h("button", { type: "button", class: "danger", "data-testid": "visit-unassign", onclick: () => onUnassign(visit) }, "Unassign")),
    h("p", { class: "status", id: "visit-status", role: "status" }));
}

// ----------------------------------------------------------------------------- alerts

const KIND_LABEL = {
  first_response_due: "first response due",
  resolution_due: "resolution due",
  arrival_due_unassigned: "arrival due, no engineer",
  eta_after_window: "ETA after the window",
  engineer_behind_plan: "engineer behind plan",
  moved_by_absence: "moved by an absence",
  declined_unassigned: "declined, nobody else",
};

export function kindLabel(kind) {
  return KIND_LABEL[kind] || kind.replaceAll("_", " ");
}

// "urgent" keeps the server's order (the most urgent first).
export const ALERT_SORTS = {
  due: (a, b) => due(a) - due(b),
  newest: (a, b) => Date.parse(b.opened_at) - Date.parse(a.opened_at),
};

function due(alert) {
  const at = alert.due || alert.window_end || alert.opened_at;
  return at ? Date.parse(at) : Infinity;
}

/** The count of each kind among ``alerts``, most frequent first: [[kind, n], ...]. */
export function kindCounts(alerts) {
  const counts = new Map();
  for (const a of alerts) counts.set(a.kind, (counts.get(a.kind) || 0) + 1);
  return [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
}

/**
 * The alerts list, filtered to ``kind`` (or all) and sorted; each card offers what can be done
 * about it: acknowledge ("I have it"), record the first response (for a first-response alert),
 * and open the request (select its visit when it is on the plan).
 */
export function renderAlerts(list, alerts, { onSelect, isPlanned, onAcknowledge, onFirstResponse, answered = () => false, kind, sort }) {
  const shown = alerts.filter((a) => !kind || a.kind === kind);
  if (ALERT_SORTS[sort]) shown.sort(ALERT_SORTS[sort]);
  if (!shown.length) {
    replace(list, h("li", { class: "muted" }, kind ? "No alerts of this kind." : "No alerts for this area."));
    return;
  }
  replace(list, shown.map((a) => h("li", {
    class: `alert-item sev-${a.severity}`, "data-testid": "alert-item", dataset: { kind: a.kind, alertId: a.id },
  },
  h("div", { class: "card-title" },
    h("span", { class: `chip sev-${a.severity}` }, a.severity),
    isPlanned(a.request_id)
      ? h("button", { type: "button", class: "linklike", onclick: () => onSelect(a.request_id) }, a.external_ref)
      : h("strong", {}, a.external_ref),
    a.tier ? tierChip(a.tier) : null,
    h("span", { class: "muted small" }, kindLabel(a.kind))),
  h("p", {}, a.customer),
  h("p", {}, a.message),
  a.suggested_action ? h("p", { class: "action" }, `→ ${a.suggested_action}`) : null,
  h("div", { class: "alert-actions" },
    a.state === "acknowledged"
      ? h("span", { class: "muted small", "data-testid": "alert-acknowledged" }, `acknowledged by ${a.acknowledged_by || "someone"}`)
      : h("button", { type: "button", "data-testid": "alert-acknowledge", onclick: () => onAcknowledge(a) }, "Acknowledge"),
    a.kind === "first_response_due" && a.request_id && answered(a.request_id)
      // Recorded from this board: the alert clears at the rules' next round (within a minute).
      ? h("span", { class: "muted small", "data-testid": "alert-responded" }, "first response recorded")
      : a.kind === "first_response_due" && a.request_id
        ? h("button", { type: "button", "data-testid": "alert-first-response", onclick: () => onFirstResponse(a) }, "Record first response")
        : null,
    a.request_id && isPlanned(a.request_id)
      ? h("button", { type: "button", "data-testid": "alert-open", onclick: () => onSelect(a.request_id) }, "Open")
      : null))));
}

// ----------------------------------------------------------------------------- runs

export const KPI_ROWS = [
  ["assigned", "Visits assigned", "more"],
  ["unassigned", "Unassigned", "less"],
  ["late_visits", "Late visits", "less"],
  ["late_minutes", "Late minutes", "less"],
  ["travel_minutes", "Travel minutes", "less"],
  ["promises_kept", "Promises kept", "more"],
  ["promises_at_risk", "Promises at risk", "less"],
  ["engineers_used", "Engineers used", null],
];

function num(value) {
  if (value === null || value === undefined) return "–";
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** Status line and before/after KPI table of a run. */
export function renderRun(statusEl, kpisEl, unassignedEl, run) {
  statusEl.dataset.status = run.status;
  const words = {
    queued: "Queued: waiting for the planner…",
    running: "Running: the optimiser is searching…",
    succeeded: "Succeeded: the new plan is published.",
    failed: `Failed: ${run.failure_reason || "no reason given"}`,
  };
  const timing = run.timings ? ` (${Object.values(run.timings).reduce((a, b) => a + b, 0).toFixed(1)} s)` : "";
  statusEl.textContent = `Run #${run.id} ${words[run.status] || run.status}${run.status === "succeeded" ? timing : ""}`;
  if (!run.kpis_before && !run.kpis_after) {
    replace(kpisEl);
    replace(unassignedEl);
    return;
  }
  const before = run.kpis_before || {};
  const after = run.kpis_after || {};
  replace(kpisEl, h("table", { class: "kpis" },
    h("thead", {}, h("tr", {}, h("th", {}, "KPI"), h("th", {}, "Before"), h("th", {}, "After"), h("th", {}, "Change"))),
    h("tbody", {}, KPI_ROWS.map(([key, label, good]) => {
      const b = before[key];
      const a = after[key];
      const delta = typeof a === "number" && typeof b === "number" ? a - b : null;
      let cls = "";
      if (delta && good) cls = (delta > 0) === (good === "more") ? "better" : "worse";
      return h("tr", { dataset: { kpi: key } },
        h("td", {}, label), h("td", {}, num(b)), h("td", {}, num(a)),
        h("td", { class: cls }, delta === null ? "–" : `${delta > 0 ? "+" : ""}${num(delta)}`));
    }))));
  const left = run.unassigned || [];
  replace(unassignedEl, left.length
    ? [h("h3", { style: { marginTop: "12px" } }, `Left unassigned (${left.length})`),
      h("ul", { class: "small" }, left.map((u) => h("li", {}, h("strong", {}, u.external_ref), ` ${u.reason}: ${u.message}`)))]
    : null);
}

export { setStatus };
