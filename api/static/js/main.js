// The Onsite dispatch board: sign-in, the day (map, timeline, unassigned, alerts, runs) and
// the analytics page. Plain ES modules, no build step; times in the area's timezone.

import { ApiError, createApi, follow, query } from "./api.js";
import { Analytics } from "./analytics.js";
import { h, replace, setStatus } from "./dom.js";
import { BoardMap } from "./map.js";
import { kindCounts, kindLabel, renderAlerts, renderRun, renderUnassigned, renderVisit } from "./panels.js";
import { renderTimeline } from "./timeline.js";
import { dateIn, dayHm, hm } from "./time.js";

const KEY = "onsite.apiKey";
const AREA = "onsite.area";
const ALERTS_EVERY_MS = 15000; // polling, only while the live stream is down
const LIVE_SETTLE_MS = 250; // changes arriving together cause one reload
const ALERTS_SHOWN = 500; // the API's largest page
const RUN_POLL_MS = 1000;
const BOARD_ROLES = new Set(["dispatcher", "admin"]);

const $ = (id) => document.getElementById(id);
const api = createApi(() => sessionStorage.getItem(KEY));

const state = {
  me: null,
  now: null, // the server's current time (ISO), refreshed with the alerts
  areas: [],
  areaId: null,
  date: null,
  plan: null,
  planToken: 0,
  selected: null, // request id of the selected visit
  picks: new Map(), // request id -> engineer id picked in the unassigned list
  ranked: new Map(), // request id -> engineers ranked for it (POST /v1/dispatch/candidates)
  showAll: new Set(), // request ids whose picker also lists the unqualified
  checks: new Map(), // request id -> dry-run answer or {error}
  alerts: [],
  alertsTimer: null,
  responded: new Set(), // requests whose first response this board recorded
  runTimer: null,
  stopLive: null,
  liveTimer: null,
  map: null,
  analytics: null,
};

const area = () => state.areas.find((a) => a.id === state.areaId);
const tz = () => (area() ? area().timezone : "UTC");

// ------------------------------------------------------------------------------ sign-in

function showSignIn(message = "") {
  $("app").hidden = true;
  $("signin").hidden = false;
  const error = $("signin-error");
  error.hidden = !message;
  error.textContent = message;
  $("signin-key").focus();
}

async function signIn(key) {
  sessionStorage.setItem(KEY, key);
  let me;
  try {
    me = await api.get("/v1/me");
  } catch (err) {
    sessionStorage.removeItem(KEY);
    if (err instanceof ApiError && err.status === 401) {
      throw new Error("That API key was not accepted (401): it is unknown or revoked.");
    }
    throw err;
  }
  if (!BOARD_ROLES.has(me.role)) {
    sessionStorage.removeItem(KEY);
    throw new Error(`This key belongs to a ${me.role.replace("_", " ")}; the board needs a dispatcher or admin key.`);
  }
  state.me = me;
  state.now = me.now;
  await startApp();
}

function signOut() {
  sessionStorage.removeItem(KEY);
  stopTimers();
  Object.assign(state, { me: null, plan: null, selected: null, alerts: [], responded: new Set() });
  state.picks.clear();
  state.checks.clear();
  state.ranked.clear();
  $("signin-key").value = "";
  showSignIn();
}

function stopTimers() {
  clearInterval(state.alertsTimer);
  clearTimeout(state.runTimer);
  clearTimeout(state.liveTimer);
  if (state.stopLive) state.stopLive();
  state.alertsTimer = null;
  state.runTimer = null;
  state.stopLive = null;
}

// ------------------------------------------------------------------------------ app start

async function startApp() {
  $("signin").hidden = true;
  $("app").hidden = false;
  $("whoami").textContent = `${state.me.name} (${state.me.role})`;
  const [areas, geojson] = await Promise.all([
    api.get(`/v1/service-areas?${query({ limit: 200 })}`),
    api.get("/v1/service-areas.geojson"),
  ]);
  const based = areas.items.filter((a) => a.engineers_based !== false);
  state.areas = based.length ? based : areas.items;
  const remembered = Number(sessionStorage.getItem(AREA));
  state.areaId = state.areas.some((a) => a.id === remembered) ? remembered : state.areas[0]?.id ?? null;
  replace($("area-select"), state.areas.map((a) => h("option", { value: a.id, selected: a.id === state.areaId }, a.name)));
  state.date = state.areaId ? dateIn(state.now, tz()) : dateIn(state.now, "UTC");
  $("date-input").value = state.date;
  updateClock();

  if (!state.map) {
    state.map = new BoardMap($("map"), {
      onVisit: selectVisit,
      loadConfig: () => api.get("/v1/board/config"),
    });
  }
  state.map.setAreas(geojson);
  if (!state.analytics) state.analytics = new Analytics(api, () => state.now, tz);
  route();
  await Promise.all([loadPlan(), refreshAlerts()]);
  startLive();
}

// The live stream: plan changes, ETAs and alerts as they happen. While it is down the board
// polls as before; when it is back the board reloads once (it may have missed something).
function startLive() {
  if (state.stopLive) state.stopLive();
  state.stopLive = follow("/v1/stream", () => sessionStorage.getItem(KEY), {
    onEvent: (event) => {
      let body = null;
      try {
        body = JSON.parse(event.data);
      } catch {
        return;
      }
      if (body.service_area_id !== null && body.service_area_id !== state.areaId) return;
      clearTimeout(state.liveTimer);
      state.liveTimer = setTimeout(() => {
        loadPlan();
        refreshAlerts();
      }, LIVE_SETTLE_MS);
    },
    onState: (up) => {
      document.body.dataset.live = up ? "on" : "off";
      if (up) {
        if (state.alertsTimer) {
          clearInterval(state.alertsTimer);
          state.alertsTimer = null;
          loadPlan();
          refreshAlerts();
        }
      } else if (!state.alertsTimer) {
        state.alertsTimer = setInterval(() => {
          loadPlan();
          refreshAlerts();
        }, ALERTS_EVERY_MS);
      }
    },
  });
}

function updateClock() {
  if (!state.now) return;
  $("clock").textContent = `${dayHm(state.now, tz())} (${tz()})`;
}

// ------------------------------------------------------------------------------ views

function route() {
  const view = location.hash === "#/analytics" ? "analytics" : "board";
  $("view-board").hidden = view !== "board";
  $("view-analytics").hidden = view !== "analytics";
  $("board-controls").hidden = view !== "board";
  for (const link of document.querySelectorAll(".views a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (!state.me) return;
  if (view === "board" && state.map) state.map.resize();
  if (view === "analytics") state.analytics.show();
}

function selectTab(name, { focus = false } = {}) {
  for (const tab of document.querySelectorAll('.tabs [role="tab"]')) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute("aria-selected", String(on));
    $(tab.getAttribute("aria-controls")).hidden = !on;
    if (on && focus) tab.focus();
  }
}

// ------------------------------------------------------------------------------ the plan

// A run plans from now on: a past day has nothing left to plan, so it is not offered.
function updatePlanNow() {
  const button = $("plan-now");
  const past = Boolean(state.now && state.date && state.date < dateIn(state.now, tz()));
  button.hidden = past;
  button.title = past ? "" : "Re-plan the selected area and day";
}

async function loadPlan() {
  if (!state.areaId || !state.date) return;
  updatePlanNow();
  const token = ++state.planToken;
  setStatus($("plan-summary"), "Loading the plan…");
  let plan;
  try {
    plan = await api.get(`/v1/dispatch/plan?${query({ service_area_id: state.areaId, date: state.date })}`);
  } catch (err) {
    if (token !== state.planToken) return;
    state.plan = null;
    setStatus($("plan-summary"), `The plan could not be loaded: ${err.message}`, "bad");
    renderPlan();
    return;
  }
  if (token !== state.planToken) return; // a newer request is on its way
  state.plan = plan;
  renderPlan();
}

function findVisit(requestId) {
  if (!state.plan) return null;
  for (const route of state.plan.routes) {
    const visit = route.visits.find((v) => v.request_id === requestId);
    if (visit) return { visit, route };
  }
  return null;
}

function renderPlan() {
  const plan = state.plan;
  if (plan) {
    const visits = plan.routes.flatMap((r) => r.visits);
    const count = (s) => visits.filter((v) => v.promise_state === s).length;
    const working = plan.routes.filter((r) => r.visits.length).length;
    setStatus($("plan-summary"),
      `${visits.length} visits · ${working}/${plan.routes.length} engineers · ` +
      `${count("on_time")} on time · ${count("at_risk")} at risk · ${count("late")} late · ` +
      `${plan.unassigned.length} unassigned · plan v${plan.plan_version}`);
  }
  if (state.selected && !findVisit(state.selected)) state.selected = null;
  state.map.showPlan(plan, state.areaId, tz());
  renderTimeline($("timeline"), plan, {
    timeZone: tz(), day: state.date, now: state.now, selected: state.selected,
    onVisit: selectVisit, onDrop: dropOnEngineer,
  });
  renderUnassignedPanel();
  renderVisitPanel();
  renderAlertsPanel();
}

async function rankEngineers(requestId) {
  setStatus($("assign-status"), "Ranking the engineers…");
  try {
    const ranked = await api.post("/v1/dispatch/candidates", { request_id: requestId, date: state.date });
    state.ranked.set(requestId, ranked);
    const fit = ranked.filter((c) => c.qualified && c.available).length;
    setStatus($("assign-status"), `${fit} qualified engineer${fit === 1 ? "" : "s"} can take it; best first.`, "ok");
  } catch (err) {
    setStatus($("assign-status"), err.message, "bad");
  }
  renderUnassignedPanel();
}

function renderUnassignedPanel() {
  const open = new Set((state.plan ? state.plan.unassigned : []).map((u) => u.request_id));
  for (const id of [...state.checks.keys()]) if (!open.has(id)) state.checks.delete(id);
  for (const id of [...state.ranked.keys()]) if (!open.has(id)) state.ranked.delete(id);
  $("unassigned-count").textContent = String(open.size);
  renderUnassigned($("unassigned-list"), {
    plan: state.plan, timeZone: tz(), day: state.date, picks: state.picks, checks: state.checks,
    onCheck: checkAssignment, onAssign: commitAssignment,
    ranked: state.ranked, showAll: state.showAll, onRank: rankEngineers,
    onShowAll: (requestId, on) => {
      if (on) state.showAll.add(requestId);
      else state.showAll.delete(requestId);
      renderUnassignedPanel();
    },
    onMessage: (text, kind) => setStatus($("assign-status"), text, kind),
  });
}

function renderVisitPanel() {
  const found = state.selected ? findVisit(state.selected) : null;
  renderVisit($("visit-details"), {
    visit: found?.visit, route: found?.route, timeZone: tz(), day: state.date,
    onLock: (visitId, kind) => visitAction(api.post(`/v1/visits/${visitId}/lock`, { kind }), `Locked (${kind}).`),
    onUnlock: (visitId) => visitAction(api.del(`/v1/visits/${visitId}/lock`), "Lock released."),
    onUnassign: unassignVisit,
  });
}

function selectVisit(requestId) {
  state.selected = requestId;
  state.map.select(requestId);
  renderTimeline($("timeline"), state.plan, {
    timeZone: tz(), day: state.date, now: state.now, selected: state.selected,
    onVisit: selectVisit, onDrop: dropOnEngineer,
  });
  renderVisitPanel();
  selectTab("visit");
}

// The visit panel's status line, or, when the action took the visit off the board (unassign),
// the unassigned list's, where the request now is.
function tellVisit(text, kind) {
  const el = $("visit-status") || $("assign-status");
  if (el) setStatus(el, text, kind);
}

async function visitAction(promise, done) {
  try {
    await promise;
  } catch (err) {
    tellVisit(err.message, "bad");
    return false;
  }
  await loadPlan();
  tellVisit(done, "ok");
  return true;
}

async function unassignVisit(visit) {
  const ok = await confirmDialog(
    `Take ${visit.external_ref} off the route?`,
    [h("p", {}, `${visit.customer} will wait for the next plan or a manual assignment.`)],
    "Unassign",
  );
  if (!ok) return;
  const done = await visitAction(
    api.post(`/v1/visits/${visit.visit_id}/unassign`), `${visit.external_ref} unassigned.`);
  if (done) selectTab("unassigned");
}

// ------------------------------------------------------------------------------ assigning

async function checkAssignment(requestId, engineerId) {
  state.picks.set(requestId, engineerId);
  setStatus($("assign-status"), "Checking…");
  try {
    const answer = await api.post("/v1/dispatch/assignments", {
      request_id: requestId, engineer_id: engineerId, date: state.date, dry_run: true,
    });
    state.checks.set(requestId, answer);
    setStatus($("assign-status"), "");
  } catch (err) {
    state.checks.set(requestId, { error: err.message });
    setStatus($("assign-status"), "");
  }
  renderUnassignedPanel();
  const item = document.querySelector(`[data-testid="unassigned-item"][data-request-id="${requestId}"]`);
  if (item) {
    item.scrollIntoView({ block: "nearest" });
    item.querySelector('[data-testid="assign-commit"]')?.focus();
  }
}

async function commitAssignment(requestId) {
  const check = state.checks.get(requestId);
  const unassigned = state.plan.unassigned.find((u) => u.request_id === requestId);
  if (!check || check.error || !unassigned) return;
  const warnings = check.warnings || [];
  if (warnings.length) {
    const ok = await confirmDialog(
      `Assign ${unassigned.external_ref} despite ${warnings.length === 1 ? "a warning" : `${warnings.length} warnings`}?`,
      [h("ul", {}, warnings.map((w) => h("li", {}, h("code", {}, w.code), " ", w.message)))],
      "Assign anyway",
    );
    if (!ok) return;
  }
  const engineer = state.plan.routes.find((r) => r.engineer.id === check.engineer_id);
  try {
    const answer = await api.post("/v1/dispatch/assignments", {
      request_id: requestId, engineer_id: check.engineer_id, date: state.date,
      dry_run: false, accept_warnings: warnings.length > 0,
    });
    state.checks.delete(requestId);
    state.picks.delete(requestId);
    setStatus($("assign-status"),
      `${unassigned.external_ref} assigned to ${engineer ? engineer.engineer.name : `engineer ${check.engineer_id}`}` +
      `, ETA ${hm(answer.eta, tz())}.`, "ok");
    await Promise.all([loadPlan(), refreshAlerts()]);
  } catch (err) {
    // 409: the situation changed since the check (the message says what); keep it visible.
    state.checks.set(requestId, { error: err.message });
    setStatus($("assign-status"), err.message, "bad");
    renderUnassignedPanel();
  }
}

function dropOnEngineer(requestId, engineerId) {
  selectTab("unassigned");
  checkAssignment(requestId, engineerId);
}

/** A modal confirmation; resolves true when confirmed. */
function confirmDialog(title, body, okLabel) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  replace($("confirm-text"), body);
  $("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

// ------------------------------------------------------------------------------ runs

async function planNow() {
  const button = $("plan-now");
  button.disabled = true;
  selectTab("run");
  const status = $("run-status");
  status.dataset.status = "starting";
  status.textContent = "Starting a run…";
  replace($("run-kpis"));
  replace($("run-unassigned"));
  try {
    const run = await api.post("/v1/dispatch/runs", {
      scope: { service_area_ids: [state.areaId] },
      horizon_start: state.date,
      days: 1,
      time_limit_s: 10,
    });
    renderRun(status, $("run-kpis"), $("run-unassigned"), run);
    pollRun(run.id);
  } catch (err) {
    status.dataset.status = "failed";
    status.textContent = `The run could not be started: ${err.message}`;
    button.disabled = false;
  }
}

function pollRun(runId) {
  clearTimeout(state.runTimer);
  state.runTimer = setTimeout(async () => {
    if (!state.me) return;
    try {
      const run = await api.get(`/v1/dispatch/runs/${runId}`);
      renderRun($("run-status"), $("run-kpis"), $("run-unassigned"), run);
      if (run.status === "succeeded" || run.status === "failed") {
        $("plan-now").disabled = false;
        await Promise.all([loadPlan(), refreshAlerts()]);
        return;
      }
    } catch (err) {
      $("run-status").textContent = `Lost track of run #${runId}: ${err.message}; retrying…`;
    }
    pollRun(runId);
  }, RUN_POLL_MS);
}

// ------------------------------------------------------------------------------ alerts

async function refreshAlerts() {
  if (!state.me || !state.areaId) return;
  try {
    const [me, alerts] = await Promise.all([
      api.get("/v1/me"),
      api.get(`/v1/alerts?${query({ service_area_id: state.areaId, limit: ALERTS_SHOWN })}`),
    ]);
    state.now = me.now;
    state.alerts = alerts.items;
    state.alertsTotal = alerts.total;
    updateClock();
    $("alerts-updated").textContent = `Updated ${hm(me.now, tz())}.`;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut();
      showSignIn("The key was revoked meanwhile; sign in again.");
      return;
    }
    $("alerts-updated").textContent = `Could not refresh: ${err.message}`;
  }
  renderAlertsPanel();
}

function renderAlertsPanel() {
  const alerts = state.alerts;
  const total = state.alertsTotal ?? alerts.length;
  // Alerts come most urgent first: the urgent ones are all on the first page.
  const danger = alerts.filter((a) => a.severity === "danger").length;
  const badge = $("alerts-badge");
  $("alerts-count").textContent = String(total);
  badge.classList.toggle("has-danger", danger > 0);
  badge.classList.toggle("has-warning", danger === 0 && total > 0);
  badge.setAttribute("aria-label", `Alerts: ${total}, ${danger} urgent`);
  $("tab-alerts").textContent = "Alerts ";
  $("tab-alerts").append(h("span", { class: "count" }, String(total)));
  // The kind filter lists the kinds present, each with its count.
  const kinds = $("alerts-kind");
  const chosen = kinds.value;
  const counts = kindCounts(alerts);
  kinds.replaceChildren(
    h("option", { value: "" }, `all (${alerts.length})`),
    ...counts.map(([kind, n]) => h("option", { value: kind }, `${kindLabel(kind)} (${n})`)),
  );
  kinds.value = counts.some(([kind]) => kind === chosen) ? chosen : "";
  renderAlerts($("alerts-list"), alerts, {
    onSelect: selectVisit,
    isPlanned: (requestId) => Boolean(findVisit(requestId)),
    onAcknowledge: acknowledgeAlert,
    onFirstResponse: recordFirstResponse,
    answered: (requestId) => state.responded.has(requestId),
    kind: kinds.value,
    sort: $("alerts-sort").value,
  });
}

async function acknowledgeAlert(alert) {
  try {
    await api.post(`/v1/alerts/${alert.id}/acknowledge`);
    setStatus($("alerts-status"), `${alert.external_ref || "Alert"}: acknowledged.`, "ok");
  } catch (err) {
    setStatus($("alerts-status"), err.message, "bad");
  }
  await refreshAlerts();
}

async function recordFirstResponse(alert) {
  try {
    await api.post(`/v1/requests/${alert.request_id}/acknowledge`, { note: "from the dispatcher board" });
    state.responded.add(alert.request_id);
    setStatus($("alerts-status"), `${alert.external_ref}: first response recorded.`, "ok");
  } catch (err) {
    setStatus($("alerts-status"), err.message, "bad");
  }
  await refreshAlerts();
}

// ------------------------------------------------------------------------------ wiring

function wire() {
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("signin-key").value.trim();
    const error = $("signin-error");
    if (!key) {
      error.hidden = false;
      error.textContent = "Enter an API key.";
      return;
    }
    $("signin-button").disabled = true;
    try {
      await signIn(key);
    } catch (err) {
      showSignIn(err.message);
    } finally {
      $("signin-button").disabled = false;
    }
  });
  $("signout").addEventListener("click", signOut);
  $("area-select").addEventListener("change", () => {
    state.areaId = Number($("area-select").value);
    sessionStorage.setItem(AREA, String(state.areaId));
    state.selected = null;
    state.checks.clear();
    state.picks.clear();
    state.ranked.clear();
    state.alerts = [];
    updateClock();
    loadPlan();
    refreshAlerts();
  });
  $("date-input").addEventListener("change", () => {
    if (!$("date-input").value) return;
    state.date = $("date-input").value;
    state.checks.clear();
    state.ranked.clear(); // a ranking is for one day
    loadPlan();
  });
  $("plan-now").addEventListener("click", planNow);
  $("alerts-kind").addEventListener("change", renderAlertsPanel);
  $("alerts-sort").addEventListener("change", renderAlertsPanel);
  $("alerts-badge").addEventListener("click", () => {
    if (location.hash === "#/analytics") location.hash = "#/board";
    selectTab("alerts", { focus: true });
  });
  const tabs = [...document.querySelectorAll('.tabs [role="tab"]')];
  tabs.forEach((tab, i) => {
    tab.removeAttribute("tabindex");
    tab.addEventListener("click", () => selectTab(tab.id.replace("tab-", "")));
    tab.addEventListener("keydown", (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      const next = tabs[(i + step + tabs.length) % tabs.length];
      selectTab(next.id.replace("tab-", ""), { focus: true });
    });
  });
  window.addEventListener("hashchange", route);
}

async function boot() {
  wire();
  route();
  const key = sessionStorage.getItem(KEY);
  if (!key) {
    showSignIn();
    return;
  }
  try {
    await signIn(key);
  } catch (err) {
    showSignIn(err.message);
  }
}

boot();
