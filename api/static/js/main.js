// The Onsite dispatch board: sign-in, the day (map, timeline, unassigned, alerts, runs) and
// the analytics page. Plain ES modules, no build step; times in the area's timezone.

import { ApiError, createApi, follow, query } from "./api.js";
import { Analytics } from "./analytics.js";
import { h, replace, setStatus } from "./dom.js";
import { BoardMap } from "./map.js";
import { kindCounts, kindLabel, renderAlerts, renderRun, renderUnassigned, renderVisit } from "./panels.js";
import { MOVABLE, renderTimeline } from "./timeline.js";
import { choices, countMatches, isActive, matches, NO_FILTERS } from "./find.js";
import { renderMultiDay } from "./multiday.js";
import { addDays, dateIn, dayHm, dayText, hm } from "./time.js";
import { currentLocale, LOCALES, preferredLocale, setLocale, t } from "./i18n.js";

const KEY = "onsite.apiKey";
const AREA = "onsite.area";
const ALERTS_EVERY_MS = 15000; // polling, only while the live stream is down
const LIVE_SETTLE_MS = 250; // changes arriving together cause one reload
const ALERTS_SHOWN = 500; // the API's largest page
const RUN_POLL_MS = 1000;
const PREVIEW_SETTLE_MS = 150; // a drag's preview asks once the pointer rests
const BOARD_ROLES = new Set(["dispatcher", "admin"]);
const MAX_DAYS = 7; // the multi-day view: up to a week

const $ = (id) => document.getElementById(id);
const api = createApi(() => sessionStorage.getItem(KEY), currentLocale);

const state = {
  me: null,
  now: null, // the server's current time (ISO), refreshed with the alerts
  areas: [],
  areaId: null,
  date: null,
  plan: null,
  plans: [], // the multi-day view: one plan per day, the first is ``plan``
  days: 1,
  filters: { ...NO_FILTERS },
  planToken: 0,
  selected: null, // request id of the selected visit
  chosen: new Set(), // request ids selected together (ctrl- or shift-click), moved together
  undo: null, // the last change: {label, steps: [assignment bodies that put it back]}
  preview: { key: null, answer: null, timer: null, token: 0 },
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
      throw new Error(t("signin.refused"));
    }
    throw err;
  }
  if (!BOARD_ROLES.has(me.role)) {
    sessionStorage.removeItem(KEY);
    throw new Error(t("signin.wrong_role", { role: t(`role.${me.role}`) }));
  }
  state.me = me;
  state.now = me.now;
  await startApp();
}

function signOut() {
  sessionStorage.removeItem(KEY);
  stopTimers();
  Object.assign(state, { me: null, plan: null, plans: [], selected: null, undo: null, alerts: [], responded: new Set() });
  state.chosen.clear();
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
  showWho();
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
  showDay();
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

function showWho() {
  if (state.me) $("whoami").textContent = `${state.me.name} (${t(`role.${state.me.role}`)})`;
}

/** The day box's date in the board's language ("Tue 1 Dec" / "12月1日周二"), beside the
 * browser's own date field, which follows the browser's settings. */
function showDay() {
  if (state.date) $("date-label").textContent = dayText(state.date);
}

/** Switch the board's language: the page's text, then everything drawn from data, and the
 * server's messages again (they come in the language asked for). */
async function switchLocale(name) {
  const chosen = await setLocale(name, { remember: true });
  for (const select of document.querySelectorAll(".lang-select")) select.value = chosen;
  if (!state.me) return;
  showWho();
  updateClock();
  showDay();
  state.map.addLegend();
  updatePlanNow();
  renderPlan();
  await Promise.all([loadPlan(), refreshAlerts()]);
  if (location.hash === "#/analytics") state.analytics.show({ reload: true });
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
  button.title = past ? "" : t("plan_now.title");
}

async function loadPlan() {
  if (!state.areaId || !state.date) return;
  updatePlanNow();
  const token = ++state.planToken;
  setStatus($("plan-summary"), t("plan.loading"));
  let plans;
  try {
    const days = Array.from({ length: state.days }, (_, i) => addDays(state.date, i));
    plans = await Promise.all(days.map((day) =>
      api.get(`/v1/dispatch/plan?${query({ service_area_id: state.areaId, date: day })}`)));
  } catch (err) {
    if (token !== state.planToken) return;
    state.plan = null;
    state.plans = [];
    setStatus($("plan-summary"), t("plan.load_failed", { error: err.message }), "bad");
    renderPlan();
    return;
  }
  if (token !== state.planToken) return; // a newer request is on its way
  state.plans = plans;
  state.plan = plans[0];
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
    setStatus($("plan-summary"), t("plan.summary", {
      visits: visits.length, working, engineers: plan.routes.length, on_time: count("on_time"),
      at_risk: count("at_risk"), late: count("late"), unassigned: plan.unassigned.length,
      version: plan.plan_version,
    }));
  }
  if (state.selected && !findVisit(state.selected)) state.selected = null;
  state.map.showPlan(plan, state.areaId, tz());
  for (const id of [...state.chosen]) if (!findVisit(id)) state.chosen.delete(id);
  fillFilterChoices();
  drawTimeline();
  renderUnassignedPanel();
  renderVisitPanel();
  renderAlertsPanel();
}

async function rankEngineers(requestId) {
  setStatus($("assign-status"), t("picker.ranking"));
  try {
    const ranked = await api.post("/v1/dispatch/candidates", { request_id: requestId, date: state.date });
    state.ranked.set(requestId, ranked);
    const fit = ranked.filter((c) => c.qualified && c.available).length;
    setStatus($("assign-status"), t("picker.ranked", { count: fit }), "ok");
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
    shows: (u) => matches(u, state.filters),
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
  const together = [...state.chosen].map(findVisit).filter(Boolean);
  renderVisit($("visit-details"), {
    visit: found?.visit, route: found?.route, timeZone: tz(), day: state.date,
    together: together.length > 1 ? together : [],
    engineers: state.plan ? state.plan.routes.map((r) => r.engineer) : [],
    onLock: (visitId, kind) => visitAction(api.post(`/v1/visits/${visitId}/lock`, { kind }), t("visit.locked", { lock: t(`lock.${kind}`) })),
    onUnlock: (visitId) => visitAction(api.del(`/v1/visits/${visitId}/lock`), t("visit.unlocked")),
    onUnassign: unassignVisit,
    onMove: (requestIds, engineerId) => moveVisits({ requestIds, engineerId, arrival: null }),
    onUnassignAll: unassignChosen,
  });
}

function drawTimeline() {
  const several = state.days > 1 && state.plans.length > 1;
  $("timeline").hidden = several;
  $("multiday").hidden = !several;
  if (several) {
    renderMultiDay($("multiday"), state.plans, {
      timeZone: tz(), filters: state.filters,
      onVisit: (day, requestId) => openDay(day, requestId),
    });
  } else {
    renderTimeline($("timeline"), state.plan, {
      timeZone: tz(), day: state.date, now: state.now, selected: state.selected, chosen: state.chosen,
      filters: state.filters,
      onVisit: selectVisit, onDrop: dropOnEngineer,
      onPreview: previewMove, onMove: moveVisits, onDragEnd: clearPreview,
    });
  }
  const found = countMatches(state.plan, state.filters);
  $("find-count").textContent = isActive(state.filters) && !several
    ? t("find.count", { visits: found.visits, of: found.of, unassigned: found.unassigned })
    : "";
}

/** From the multi-day view: that day on the full timeline, the visit selected. */
async function openDay(day, requestId) {
  state.days = 1;
  $("days-select").value = "1";
  state.date = day;
  $("date-input").value = day;
  showDay();
  await loadPlan();
  if (findVisit(requestId)) selectVisit(requestId);
}

/** The filters offer what the day holds, each in words; a choice no longer there is kept. */
function fillFilterChoices() {
  const offered = choices(state.plan);
  const fill = (id, field, all, label) => {
    const select = $(id);
    const current = state.filters[field];
    const values = offered[field].includes(current) || !current ? offered[field] : [...offered[field], current];
    select.replaceChildren(h("option", { value: "" }, all), ...values.map((v) => h("option", { value: v }, label(v))));
    select.value = current;
  };
  fill("filter-skill", "skill", t("find.any_skill"), (v) => v);
  fill("filter-tier", "tier", t("find.any_tier"), (v) => t(`tier.${v}`));
  fill("filter-state", "state", t("find.any_state"), (v) => t(`state.${v}`));
  fill("filter-status", "status", t("find.any_status"), (v) => t(`status.${v}`));
}

function readFilters() {
  state.filters = {
    text: $("search").value,
    skill: $("filter-skill").value,
    tier: $("filter-tier").value,
    state: $("filter-state").value,
    status: $("filter-status").value,
  };
  drawTimeline();
  renderUnassignedPanel();
  state.map.filter((requestId) => {
    const found = findVisit(requestId);
    return !found || matches(found.visit, state.filters, found.route.engineer.name);
  }, isActive(state.filters));
}

/** Select a visit; with ``toggle`` (ctrl- or shift-click) add it to or take it from the
 * visits selected together. */
function selectVisit(requestId, { toggle = false } = {}) {
  if (toggle) {
    if (state.selected && !state.chosen.size) state.chosen.add(state.selected);
    if (state.chosen.has(requestId)) state.chosen.delete(requestId);
    else state.chosen.add(requestId);
    state.selected = state.chosen.has(requestId) ? requestId : [...state.chosen].at(-1) ?? null;
  } else {
    state.chosen.clear();
    state.selected = requestId;
  }
  state.map.select(state.selected);
  drawTimeline();
  renderVisitPanel();
  selectTab("visit");
}

// ------------------------------------------------------------------------------ moving visits

/** Where a visit is now, as an assignment that would put it back there (undo). */
function placeOf(requestId) {
  const found = findVisit(requestId);
  if (!found) return null;
  const { visit, route } = found;
  const movable = route.visits.filter((v) => MOVABLE.has(v.status));
  const timed = visit.lock === "time" || visit.lock === "both";
  const keep = timed && visit.locked_arrival && Date.parse(visit.locked_arrival) > Date.parse(state.now);
  return {
    request_id: requestId, engineer_id: route.engineer.id, date: state.date,
    position: movable.findIndex((v) => v.request_id === requestId),
    lock: visit.lock || "none", arrival: keep ? visit.locked_arrival : null,
    ref: visit.external_ref,
  };
}

function moveBody(requestId, engineerId, arrival, extra = {}) {
  return { request_id: requestId, engineer_id: engineerId, date: state.date, arrival, ...extra };
}

function refOf(requestId) {
  return findVisit(requestId)?.visit.external_ref ?? String(requestId);
}

function nameOf(engineerId) {
  return state.plan?.routes.find((r) => r.engineer.id === engineerId)?.engineer.name ?? String(engineerId);
}

function warningList(warnings) {
  return h("ul", {}, warnings.map((w) => h("li", {}, h("code", {}, w.code), " ", w.message)));
}

function showPreview(content, kind = "") {
  const el = $("move-preview");
  el.hidden = false;
  el.classList.toggle("bad", kind === "bad");
  el.classList.toggle("ok", kind === "ok");
  replace(el, content);
}

function clearPreview() {
  clearTimeout(state.preview.timer);
  state.preview.token += 1;
  state.preview.key = null;
  state.preview.answer = null;
  $("move-preview").hidden = true;
}

/** While a visit is dragged over a row: what the drop would do, from the server's check. */
function previewMove({ requestIds, engineerId, arrival }) {
  const key = JSON.stringify([requestIds, engineerId, arrival]);
  if (key === state.preview.key) return; // shown already, or its answer is on its way
  state.preview.key = key;
  state.preview.answer = null;
  clearTimeout(state.preview.timer);
  const where = arrival ? t("move.to_at", { name: nameOf(engineerId), time: hm(arrival, tz()) }) : t("move.to", { name: nameOf(engineerId) });
  if (requestIds.length > 1) {
    showPreview([h("strong", {}, t("move.several", { count: requestIds.length })), " ", where]);
    return;
  }
  showPreview([h("strong", {}, refOf(requestIds[0])), " ", where, " · ", t("move.checking")]);
  const token = ++state.preview.token;
  state.preview.timer = setTimeout(async () => {
    try {
      const answer = await api.post("/v1/dispatch/assignments", moveBody(requestIds[0], engineerId, arrival, { dry_run: true }));
      if (token !== state.preview.token) return;
      state.preview.answer = answer;
      const warnings = answer.warnings || [];
      showPreview([
        h("strong", {}, refOf(requestIds[0])), " ", where, " · ",
        t("move.eta", { time: hm(answer.eta, tz()) }), " · ",
        warnings.length ? t("move.warnings", { count: warnings.length }) : t("move.no_warnings"),
        warnings.length ? warningList(warnings) : null,
      ], warnings.length ? "bad" : "ok");
    } catch (err) {
      if (token !== state.preview.token) return;
      showPreview([h("strong", {}, refOf(requestIds[0])), " ", where, " · ", err.message], "bad");
    }
  }, PREVIEW_SETTLE_MS);
}

/**
 * Move visits (a drop, or the visit panel's Move): each is checked, the warnings are shown
 * once for all, and only then committed; the last change can be undone.
 */
async function moveVisits({ requestIds, engineerId, arrival }) {
  const key = JSON.stringify([requestIds, engineerId, arrival]);
  const ready = key === state.preview.key ? state.preview.answer : null;
  clearPreview();
  const before = requestIds.map(placeOf).filter(Boolean);
  if (!before.length) return;
  if (before.length === 1 && before[0].engineer_id === engineerId && !arrival) return; // back where it was
  const checks = [];
  try {
    for (const place of before) {
      const answer = ready && before.length === 1 ? ready
        : await api.post("/v1/dispatch/assignments", moveBody(place.request_id, engineerId, arrival, { dry_run: true }));
      checks.push({ place, answer });
    }
  } catch (err) {
    setStatus($("move-status"), err.message, "bad");
    return;
  }
  const warned = checks.filter((c) => (c.answer.warnings || []).length);
  if (warned.length) {
    const ok = await confirmDialog(
      t("move.confirm_title", { count: before.length, name: nameOf(engineerId) }),
      warned.map((c) => [h("p", {}, h("strong", {}, c.place.ref)), warningList(c.answer.warnings)]),
      t("move.confirm_ok"),
    );
    if (!ok) return;
  }
  const done = [];
  try {
    for (const { place } of checks) {
      await api.post("/v1/dispatch/assignments", moveBody(place.request_id, engineerId, arrival, { accept_warnings: true }));
      done.push(place);
    }
  } catch (err) {
    setStatus($("move-status"), err.message, "bad");
  }
  if (done.length) {
    const label = done.length === 1
      ? (arrival ? t("move.done_at", { ref: done[0].ref, name: nameOf(engineerId), time: hm(arrival, tz()) })
        : t("move.done", { ref: done[0].ref, name: nameOf(engineerId) }))
      : t("move.done_several", { count: done.length, name: nameOf(engineerId) });
    rememberUndo(label, done);
  }
  state.chosen.clear();
  await Promise.all([loadPlan(), refreshAlerts()]);
}

function rememberUndo(label, places) {
  state.undo = { label, steps: places };
  setStatus($("move-status"), label, "ok");
  $("undo").hidden = false;
  $("undo").title = t("undo.title", { what: label });
}

/** Put the last change back: each visit to its engineer, place and lock, last one first. */
async function undoLast() {
  const last = state.undo;
  if (!last) return;
  state.undo = null;
  $("undo").hidden = true;
  try {
    for (const place of [...last.steps].reverse()) {
      const { ref, ...body } = place;
      await api.post("/v1/dispatch/assignments", { ...body, accept_warnings: true });
    }
    setStatus($("move-status"), t("undo.done", { what: last.label }), "ok");
  } catch (err) {
    setStatus($("move-status"), t("undo.failed", { error: err.message }), "bad");
  }
  await Promise.all([loadPlan(), refreshAlerts()]);
}

/** Unassign several visits at once (after one confirmation); undo puts them all back. */
async function unassignChosen(requestIds) {
  const places = requestIds.map(placeOf).filter(Boolean);
  const ok = await confirmDialog(
    t("unassign.several_title", { count: places.length }),
    [h("p", {}, places.map((p) => p.ref).join(", "))],
    t("unassign.ok"),
  );
  if (!ok) return;
  const done = [];
  try {
    for (const place of places) {
      await api.post(`/v1/visits/${findVisit(place.request_id).visit.visit_id}/unassign`);
      done.push(place);
    }
  } catch (err) {
    setStatus($("move-status"), err.message, "bad");
  }
  if (done.length) rememberUndo(t("unassign.done_several", { count: done.length }), done);
  state.chosen.clear();
  state.selected = null;
  await Promise.all([loadPlan(), refreshAlerts()]);
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
    t("unassign.title", { ref: visit.external_ref }),
    [h("p", {}, t("unassign.body", { customer: visit.customer }))],
    t("unassign.ok"),
  );
  if (!ok) return;
  const place = placeOf(visit.request_id);
  const done = await visitAction(
    api.post(`/v1/visits/${visit.visit_id}/unassign`), t("unassign.done", { ref: visit.external_ref }));
  if (done) {
    rememberUndo(t("unassign.done", { ref: visit.external_ref }), [place]);
    selectTab("unassigned");
  }
}

// ------------------------------------------------------------------------------ assigning

async function checkAssignment(requestId, engineerId) {
  state.picks.set(requestId, engineerId);
  setStatus($("assign-status"), t("move.checking"));
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
      t("picker.confirm_title", { ref: unassigned.external_ref, count: warnings.length }),
      [warningList(warnings)],
      t("picker.confirm_ok"),
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
      t("picker.assigned", {
        ref: unassigned.external_ref, name: engineer ? engineer.engineer.name : check.engineer_id,
        time: hm(answer.eta, tz()),
      }), "ok");
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
  status.textContent = t("run.starting");
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
    status.textContent = t("run.start_failed", { error: err.message });
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
      $("run-status").textContent = t("run.lost", { id: runId, error: err.message });
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
    $("alerts-updated").textContent = t("alerts.updated", { time: hm(me.now, tz()) });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut();
      showSignIn(t("signin.revoked"));
      return;
    }
    $("alerts-updated").textContent = t("alerts.refresh_failed", { error: err.message });
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
  badge.setAttribute("aria-label", t("alerts.badge_label", { total, danger }));
  $("tab-alerts").textContent = `${t("tab.alerts")} `;
  $("tab-alerts").append(h("span", { class: "count" }, String(total)));
  // The kind filter lists the kinds present, each with its count.
  const kinds = $("alerts-kind");
  const chosen = kinds.value;
  const counts = kindCounts(alerts);
  kinds.replaceChildren(
    h("option", { value: "" }, t("alerts.all", { count: alerts.length })),
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
    setStatus($("alerts-status"), t("alerts.acknowledged", { ref: alert.external_ref || "–" }), "ok");
  } catch (err) {
    setStatus($("alerts-status"), err.message, "bad");
  }
  await refreshAlerts();
}

async function recordFirstResponse(alert) {
  try {
    await api.post(`/v1/requests/${alert.request_id}/acknowledge`, { note: t("alerts.response_note") });
    state.responded.add(alert.request_id);
    setStatus($("alerts-status"), t("alerts.response_recorded", { ref: alert.external_ref }), "ok");
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
      error.textContent = t("signin.enter_key");
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
  for (const select of document.querySelectorAll(".lang-select")) {
    select.addEventListener("change", () => switchLocale(select.value));
  }
  for (const [id, step] of [["day-back", -1], ["day-next", 1]]) {
    $(id).addEventListener("click", () => {
      state.date = addDays(state.date, step);
      $("date-input").value = state.date;
      $("date-input").dispatchEvent(new Event("change"));
    });
  }
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
    showDay();
    state.checks.clear();
    state.ranked.clear(); // a ranking is for one day
    loadPlan();
  });
  $("plan-now").addEventListener("click", planNow);
  $("undo").addEventListener("click", undoLast);
  $("search").addEventListener("input", readFilters);
  for (const id of ["filter-skill", "filter-tier", "filter-state", "filter-status"]) {
    $(id).addEventListener("change", readFilters);
  }
  $("days-select").replaceChildren(...Array.from({ length: MAX_DAYS }, (_, i) => h("option", { value: i + 1 }, String(i + 1))));
  $("days-select").addEventListener("change", () => {
    state.days = Math.max(1, Math.min(MAX_DAYS, Number($("days-select").value) || 1));
    loadPlan();
  });
  document.addEventListener("keydown", (event) => {
    const field = event.target.closest?.("input, select, textarea");
    if (field || !(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "z") return;
    if (!state.undo || $("app").hidden) return;
    event.preventDefault();
    undoLast();
  });
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
  try {
    const chosen = await setLocale(preferredLocale());
    for (const select of document.querySelectorAll(".lang-select")) {
      // Each language named in itself: whoever cannot read the current one finds theirs.
      select.replaceChildren(...LOCALES.map((name) => h("option", { value: name }, t(`locale.${name}`))));
      select.value = chosen;
    }
  } catch (err) {
    console.warn(err.message); // the page's own English stays
  }
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
