// The sidebar's panels: unassigned requests (with the assignment check), a visit's details,
// alerts, and the dispatch run's progress with its before/after KPIs.

import { h, replace, setStatus, stateChip, tierChip } from "./dom.js";
import { num as formatNumber, t } from "./i18n.js";
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
    replace(list, h("li", { class: "muted" }, t("unassigned.none")));
    return;
  }
  const engineers = plan.routes.map((r) => r.engineer);
  const shown = ctx.shows ? items.filter(ctx.shows) : items;
  if (!shown.length) {
    replace(list, h("li", { class: "muted" }, t("unassigned.none_matching", { count: items.length })));
    return;
  }
  replace(list, shown.map((u) => unassignedItem(u, engineers, ctx, timeZone, day)));
}

/** A ranked engineer as the picker lists them: name, ETA, drive, warnings. */
function candidateLabel(c, timeZone) {
  if (!c.available) return `${c.name} (${c.reason})`;
  const levels = c.skills.map((s) => `${s.skill} ${s.level}`).join(", ");
  const warn = c.warnings.length ? ` · ${t("move.warnings", { count: c.warnings.length })}` : "";
  const drive = c.travel_to_site_s === null ? "" : ` · ${t("picker.drive", { minutes: Math.round(c.travel_to_site_s / 60) })}`;
  return `${c.name} · ${t("move.eta", { time: hm(c.eta, timeZone) })}${drive}${levels ? ` · ${levels}` : ""}${warn}`;
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
        ? h("optgroup", { label: t("picker.others") },
          rest.map((c) => h("option", { value: c.engineer_id, selected: chosen === c.engineer_id }, candidateLabel(c, timeZone))))
        : null,
    ];
  } else {
    options = engineers.map((e) => h("option", { value: e.id, selected: chosen === e.id }, e.name));
  }
  const select = h("select", { id: selectId, "data-testid": "assign-engineer" },
    h("option", { value: "" }, ranked ? t("picker.pick_ranked") : t("picker.pick")),
    options);
  select.addEventListener("change", () => ctx.picks.set(u.request_id, Number(select.value) || null));
  const check = h("button", {
    type: "button", "data-testid": "assign-check",
    onclick: () => {
      const engineerId = Number(select.value);
      if (!engineerId) {
        select.focus();
        ctx.onMessage(t("picker.pick_first"), "bad");
        return;
      }
      ctx.onCheck(u.request_id, engineerId);
    },
  }, t("picker.check"));
  const li = h("li", {
    class: "unassigned-item", draggable: "true", "data-testid": "unassigned-item",
    dataset: { requestId: u.request_id },
  },
  h("div", { class: "card-title" },
    h("strong", {}, u.external_ref), tierChip(u.tier), stateChip(u.promise_state),
    h("span", { class: "muted small" }, t("unit.min", { n: u.service_minutes }))),
  h("div", { class: "small" }, u.customer),
  h("div", { class: "small muted" }, `${u.site.address}`),
  h("div", { class: "small" }, t("visit.promised_window", { window: windowText(u.window_start, u.window_end, timeZone, day) })),
  u.skills.length
    ? h("div", { class: "small muted" }, t("visit.skills_list", { skills: u.skills.map((s) => `${s.skill} ≥${s.min_level}`).join(", ") }))
    : null,
  h("p", { class: "reason", "data-testid": "unassigned-reason" }, h("code", {}, u.reason), " ", u.message),
  h("div", { class: "assign-row" },
    select, check),
  ctx.onRank
    ? h("div", { class: "assign-row small" },
      h("button", {
        type: "button", "data-testid": "assign-rank",
        onclick: () => ctx.onRank(u.request_id),
      }, ranked ? t("picker.rank_again") : t("picker.rank")),
      ranked
        ? h("label", {},
          h("input", {
            type: "checkbox", "data-testid": "assign-show-all", checked: showAll,
            onchange: (event) => ctx.onShowAll(u.request_id, event.target.checked),
          }), " ", t("picker.show_all"))
        : null)
    : null,
  checkResult(u, ctx, timeZone));
  select.setAttribute("aria-label", t("picker.engineer_for", { ref: u.external_ref }));
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
  const name = engineer ? engineer.engineer.name : String(result.engineer_id);
  const warnings = result.warnings || [];
  return h("div", { class: "check-result", "data-testid": "check-result" },
    h("div", {}, `${name}: `, t("picker.eta_label"), " ", h("strong", { "data-testid": "check-eta" }, hm(result.eta, timeZone)),
      t("picker.stop_of", { stop: result.position + 1, of: result.route.length })),
    warnings.length
      ? h("ul", { class: "warn", "data-testid": "assign-warnings" },
        warnings.map((w) => h("li", { dataset: { code: w.code } }, h("code", {}, w.code), " ", w.message)))
      : h("div", { class: "ok" }, t("move.no_warnings")),
    h("div", { class: "button-row" },
      h("button", {
        type: "button", class: warnings.length ? "danger" : "primary", "data-testid": "assign-commit",
        onclick: () => ctx.onAssign(u.request_id),
      }, warnings.length ? t("picker.assign_anyway") : t("picker.assign"))));
}

// ----------------------------------------------------------------------------- visit

/** The selected visit's details with lock, move and unassign actions; with several visits
 * selected together, the actions on all of them. */
export function renderVisit(el, ctx) {
  const { visit, route, timeZone, day, together = [], engineers = [], onLock, onUnlock, onUnassign } = ctx;
  if (together.length > 1) {
    replace(el, renderTogether(together, engineers, ctx));
    return;
  }
  if (!visit) {
    replace(el, h("p", { class: "muted" }, t("visit.select")));
    return;
  }
  const locked = visit.lock && visit.lock !== "none";
  const row = (label, value) => [h("dt", {}, label), h("dd", {}, value)];
  const overrides = visit.overrides || [];
  replace(el,
    h("div", { class: "card-title" },
      h("strong", { "data-testid": "visit-ref" }, visit.external_ref), tierChip(visit.tier), stateChip(visit.promise_state)),
    h("div", {}, visit.customer),
    h("dl", { class: "details" },
      row(t("visit.engineer"), t("visit.engineer_stop", { name: route.engineer.name, stop: visit.sequence + 1 })),
      row(t("visit.site"), `${visit.site.name}, ${visit.site.address}`),
      row(t("visit.promised"), windowText(visit.window_start, visit.window_end, timeZone, day)),
      row(t("visit.eta"), hm(visit.eta, timeZone)),
      row(t("visit.service"), `${windowText(visit.planned_start, visit.planned_end, timeZone, day)} (${t("unit.min", { n: visit.service_minutes })})`),
      row(t("visit.travel"), minutesText((visit.travel_seconds || 0) / 60)),
      row(t("visit.status"), t(`status.${visit.status}`)),
      visit.arrived_at ? row(t("visit.arrived"), dayHm(visit.arrived_at, timeZone)) : null,
      visit.skills.length ? row(t("visit.skills"), visit.skills.map((s) => `${s.skill} ≥${s.min_level}`).join(", ")) : null,
      row(t("visit.lock"), locked
        ? `${t(`lock.${visit.lock}`)}${visit.locked_arrival ? ` ${t("visit.lock_at", { time: hm(visit.locked_arrival, timeZone) })}` : ""}`
        : t("lock.none")),
      overrides.length
        ? row(t("visit.overrides"), h("span", { "data-testid": "visit-overrides" }, overrides.map((c) => t(`warning.${c}`)).join(", ")))
        : null),
    h("div", { class: "button-row" },
      h("button", { type: "button", onclick: () => onLock(visit.visit_id, "engineer") }, t("visit.lock_engineer")),
      h("button", { type: "button", onclick: () => onLock(visit.visit_id, "time") }, t("visit.lock_time")),
      h("button", { type: "button", onclick: () => onLock(visit.visit_id, "both") }, t("visit.lock_both")),
      h("button", { type: "button", disabled: !locked, onclick: () => onUnlock(visit.visit_id) }, t("visit.unlock")),
      h("button", { type: "button", class: "danger", "data-testid": "visit-unassign", onclick: () => onUnassign(visit) }, t("unassign.ok"))),
    moveRow([visit.request_id], engineers.filter((e) => e.id !== route.engineer.id), ctx),
    h("p", { class: "muted small" }, t("visit.drag_hint")),
    h("p", { class: "status", id: "visit-status", role: "status" }));
}

/** "Move to [engineer] [Move]": the keyboard's way to do what a drag does. */
function moveRow(requestIds, engineers, ctx) {
  const select = h("select", { "data-testid": "move-engineer", "aria-label": t("visit.move_to") },
    h("option", { value: "" }, t("visit.move_to")),
    engineers.map((e) => h("option", { value: e.id }, e.name)));
  return h("div", { class: "assign-row" }, select,
    h("button", {
      type: "button", "data-testid": "move-commit",
      onclick: () => {
        const engineerId = Number(select.value);
        if (engineerId) ctx.onMove(requestIds, engineerId);
        else select.focus();
      },
    }, t("visit.move")));
}

function renderTogether(together, engineers, ctx) {
  const ids = together.map(({ visit }) => visit.request_id);
  return [
    h("div", { class: "card-title" }, h("strong", { "data-testid": "chosen-count" }, t("visit.chosen", { count: together.length }))),
    h("ul", { class: "small", "data-testid": "chosen-list" }, together.map(({ visit, route }) =>
      h("li", {}, h("strong", {}, visit.external_ref), ` · ${route.engineer.name} · ${hm(visit.eta, ctx.timeZone)}`))),
    moveRow(ids, engineers, ctx),
    h("div", { class: "button-row" },
      h("button", { type: "button", class: "danger", "data-testid": "chosen-unassign", onclick: () => ctx.onUnassignAll(ids) },
        t("visit.unassign_chosen", { count: ids.length }))),
    h("p", { class: "muted small" }, t("visit.chosen_hint")),
  ];
}

// ----------------------------------------------------------------------------- alerts

export function kindLabel(kind) {
  const label = t(`alert_kind.${kind}`);
  return label === `alert_kind.${kind}` ? kind.replaceAll("_", " ") : label;
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
    replace(list, h("li", { class: "muted" }, kind ? t("alerts.none_of_kind") : t("alerts.none")));
    return;
  }
  replace(list, shown.map((a) => h("li", {
    class: `alert-item sev-${a.severity}`, "data-testid": "alert-item", dataset: { kind: a.kind, alertId: a.id },
  },
  h("div", { class: "card-title" },
    h("span", { class: `chip sev-${a.severity}` }, t(`severity.${a.severity}`)),
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
      ? h("span", { class: "muted small", "data-testid": "alert-acknowledged" }, t("alerts.acknowledged_by", { who: a.acknowledged_by || "?" }))
      : h("button", { type: "button", "data-testid": "alert-acknowledge", onclick: () => onAcknowledge(a) }, t("alerts.acknowledge")),
    a.kind === "first_response_due" && a.request_id && answered(a.request_id)
      // Recorded from this board: the alert clears at the rules' next round (within a minute).
      ? h("span", { class: "muted small", "data-testid": "alert-responded" }, t("alerts.responded"))
      : a.kind === "first_response_due" && a.request_id
        ? h("button", { type: "button", "data-testid": "alert-first-response", onclick: () => onFirstResponse(a) }, t("alerts.record_response"))
        : null,
    a.request_id && isPlanned(a.request_id)
      ? h("button", { type: "button", "data-testid": "alert-open", onclick: () => onSelect(a.request_id) }, t("alerts.open"))
      : null))));
}

// ----------------------------------------------------------------------------- runs

// [key, which way is better, unit message]: every figure says what it counts.
export const KPI_ROWS = [
  ["assigned", "more", "unit.visits"],
  ["unassigned", "less", "unit.requests"],
  ["late_visits", "less", "unit.visits"],
  ["late_minutes", "less", "unit.min"],
  ["travel_minutes", "less", "unit.min"],
  ["promises_kept", "more", "unit.visits"],
  ["promises_at_risk", "less", "unit.visits"],
  ["engineers_used", null, "unit.engineers"],
];

function num(value, unit) {
  if (value === null || value === undefined) return "–";
  const text = formatNumber(value, Number.isInteger(value) ? 0 : 1);
  return unit ? t(unit, { n: text, count: value }) : text;
}

/** Status line and before/after KPI table of a run. */
export function renderRun(statusEl, kpisEl, unassignedEl, run) {
  statusEl.dataset.status = run.status;
  const words = t(`run.${run.status}`, { reason: run.failure_reason || "–" });
  const timing = run.timings ? ` (${t("unit.s", { n: formatNumber(Object.values(run.timings).reduce((a, b) => a + b, 0), 1) })})` : "";
  statusEl.textContent = `${t("run.number", { id: run.id })} ${words}${run.status === "succeeded" ? timing : ""}`;
  if (!run.kpis_before && !run.kpis_after) {
    replace(kpisEl);
    replace(unassignedEl);
    return;
  }
  const before = run.kpis_before || {};
  const after = run.kpis_after || {};
  replace(kpisEl, h("table", { class: "kpis" },
    h("thead", {}, h("tr", {}, h("th", {}, t("run.kpi")), h("th", {}, t("run.before")), h("th", {}, t("run.after")), h("th", {}, t("run.change")))),
    h("tbody", {}, KPI_ROWS.map(([key, good, unit]) => {
      const b = before[key];
      const a = after[key];
      const delta = typeof a === "number" && typeof b === "number" ? a - b : null;
      let cls = "";
      if (delta && good) cls = (delta > 0) === (good === "more") ? "better" : "worse";
      return h("tr", { dataset: { kpi: key } },
        h("td", {}, t(`kpi.${key}`)), h("td", {}, num(b, unit)), h("td", {}, num(a, unit)),
        h("td", { class: cls }, delta === null ? "–" : `${delta > 0 ? "+" : ""}${num(delta, unit)}`));
    }))));
  const left = run.unassigned || [];
  replace(unassignedEl, left.length
    ? [h("h3", { style: { marginTop: "12px" } }, t("run.left_unassigned", { count: left.length })),
      h("ul", { class: "small" }, left.map((u) => h("li", {}, h("strong", {}, u.external_ref), ` ${u.reason}: ${u.message}`)))]
    : null);
}

export { setStatus };
