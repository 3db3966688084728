// The analytics page: the service-level KPIs by a grouping, the stage x channel heatmap of
// median minutes, a daily trend chart, and CSV downloads of both (fetched with the key).

import { ApiError, query } from "./api.js";
import { h, replace, s, setStatus } from "./dom.js";
import { addDays, dateIn, minutesText } from "./time.js";

const $ = (id) => document.getElementById(id);

const pctText = (x) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(0)} %`);
const minText = (x) => (x === null || x === undefined ? "–" : x.toFixed(0));

const COLUMNS = [
  ["requests", "Requests", (g) => (g.requests ?? "–")],
  ["fr_mean", "First response mean (min)", (g) => minText(g.first_response_min?.mean)],
  ["fr_median", "median", (g) => minText(g.first_response_min?.median)],
  ["fr_p90", "p90", (g) => minText(g.first_response_min?.p90)],
  ["arr_mean", "Arrival mean (min)", (g) => minText(g.arrival_min?.mean)],
  ["arr_p90", "p90", (g) => minText(g.arrival_min?.p90)],
  ["on_time", "On time", (g) => pctText(g.on_time_rate)],
  ["broken", "Broken promises", (g) => pctText(g.broken_promise_rate)],
  ["resp_overdue", "Response overdue", (g) => pctText(g.response_overdue_ratio)],
  ["res_overdue", "Resolution overdue", (g) => pctText(g.resolution_overdue_ratio)],
  ["utilisation", "Utilisation", (g) => pctText(g.utilisation)],
  ["travel_share", "Travel share", (g) => pctText(g.travel_share)],
];

export class Analytics {
  constructor(api, serverNow, timezone = () => "UTC") {
    this.api = api;
    this.serverNow = serverNow;
    // Days are counted on the selected area's clock, like everything else on the board.
    this.timezone = timezone;
    this.loadedOnce = false;
    this.token = 0;
    $("analytics-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.load();
    });
    $("an-group").addEventListener("change", () => this.load());
    $("an-csv-sla").addEventListener("click", () => this.download("sla"));
    $("an-csv-heatmap").addEventListener("click", () => this.download("heatmap"));
  }

  /** Called when the page is shown; the first time it sets the default dates and loads. */
  show() {
    if (this.loadedOnce) return;
    this.loadedOnce = true;
    const today = dateIn(this.serverNow(), this.timezone());
    $("an-from").value = addDays(today, -7);
    $("an-to").value = addDays(today, 1);
    this.load();
  }

  range() {
    return { from: $("an-from").value, to: $("an-to").value, tz: this.timezone() };
  }

  async load() {
    const { from, to, tz } = this.range();
    const status = $("analytics-status");
    if (!from || !to || from >= to) {
      setStatus(status, "Choose a From date before the To date.", "bad");
      return;
    }
    const token = ++this.token;
    const groupBy = $("an-group").value;
    setStatus(status, "Loading…");
    const results = await Promise.allSettled([
      this.api.get(`/v1/analytics/sla?${query({ from, to, tz, group_by: groupBy })}`),
      this.api.get(`/v1/analytics/heatmap?${query({ from, to, tz })}`),
      groupBy === "day"
        ? null
        : this.api.get(`/v1/analytics/sla?${query({ from, to, tz, group_by: "day" })}`),
    ]);
    if (token !== this.token) return;
    const [sla, heatmap, trendResult] = results;
    const trend = groupBy === "day" ? sla : trendResult;
    const problems = [];
    if (sla.status === "fulfilled") renderSlaTable($("sla-table"), sla.value);
    else problems.push(this.explain("KPIs", sla.reason, $("sla-table")));
    if (heatmap.status === "fulfilled") renderHeatmap($("heatmap"), heatmap.value);
    else problems.push(this.explain("heatmap", heatmap.reason, $("heatmap")));
    if (trend.status === "fulfilled") renderTrend($("trend"), trend.value);
    else problems.push(this.explain("trend", trend.reason, $("trend")));
    if (problems.length) setStatus(status, problems.join(" "), "bad");
    else setStatus(status, `${from} to ${to} (exclusive), grouped by ${groupBy}.`);
  }

  explain(what, err, el) {
    const message = err instanceof ApiError && err.status === 404
      ? `The ${what} are not available on this server (404).`
      : `The ${what} could not be loaded: ${err.message}.`;
    replace(el, h("p", { class: "muted" }, message));
    return message;
  }

  /** Fetch a CSV export with the key and hand it to the browser as a download. */
  async download(kind) {
    const { from, to, tz } = this.range();
    const params = kind === "sla"
      ? { from, to, tz, group_by: $("an-group").value, format: "csv" }
      : { from, to, tz, format: "csv" };
    try {
      const text = await this.api.text(`/v1/analytics/${kind}?${query(params)}`);
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      const name = kind === "sla" ? `onsite-sla-${params.group_by}-${from}-${to}.csv` : `onsite-heatmap-${from}-${to}.csv`;
      const link = h("a", { href: url, download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      setStatus($("analytics-status"), `Downloaded ${name}.`, "ok");
    } catch (err) {
      setStatus($("analytics-status"), `The CSV could not be downloaded: ${err.message}`, "bad");
    }
  }
}

// ------------------------------------------------------------------------------ KPI table

function renderSlaTable(el, data) {
  const groups = data.groups || [];
  const perEngineer = data.group_by === "engineer" ||
    groups.some((g) => g.utilisation !== null && g.utilisation !== undefined);
  const columns = COLUMNS.filter(([key]) => perEngineer || (key !== "utilisation" && key !== "travel_share"));
  const row = (g, cls) => h("tr", { class: cls, dataset: { key: g.key ?? "" } },
    h("td", {}, g.label ?? String(g.key)), columns.map(([, , value]) => h("td", {}, value(g))));
  replace(el, h("table", { class: "sla" },
    h("thead", {}, h("tr", {}, h("th", {}, data.group_by), columns.map(([, label]) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, groups.length
      ? groups.map((g) => row(g, "group"))
      : h("tr", {}, h("td", { colspan: columns.length + 1, class: "muted" }, "No requests in this period."))),
    data.total ? h("tfoot", {}, row({ ...data.total, label: "All" }, "total")) : null));
}

// ------------------------------------------------------------------------------ heatmap

// Pale to dark; a log scale keeps minutes of response and hours of resolution both legible.
function heatColour(t) {
  const lo = [239, 246, 255];
  const mid = [251, 191, 36];
  const hi = [185, 28, 28];
  const mix = (a, b, u) => a.map((x, i) => Math.round(x + (b[i] - x) * u));
  const c = t < 0.5 ? mix(lo, mid, t * 2) : mix(mid, hi, (t - 0.5) * 2);
  return `rgb(${c.join(",")})`;
}

function renderHeatmap(el, data) {
  const cells = new Map(data.cells.map((c) => [`${c.stage}|${c.channel}`, c]));
  const medians = data.cells.map((c) => c.median_min).filter((m) => m !== null && m !== undefined);
  const max = Math.max(1, ...medians);
  const scale = (m) => Math.log1p(m) / Math.log1p(max);
  replace(el,
    h("table", { class: "heatmap" },
      h("thead", {}, h("tr", {}, h("th", {}, "stage \\ channel"), data.channels.map((c) => h("th", { scope: "col" }, c.replaceAll("_", " "))))),
      h("tbody", {}, data.stages.map((stage) => h("tr", {},
        h("th", { scope: "row" }, stage.replaceAll("_", " ")),
        data.channels.map((channel) => {
          const cell = cells.get(`${stage}|${channel}`);
          const median = cell ? cell.median_min : null;
          const count = cell ? cell.count : 0;
          if (median === null || median === undefined) {
            return h("td", { class: "cell empty", "data-testid": "heatmap-cell", dataset: { stage, channel, count } }, "–");
          }
          const t = scale(median);
          return h("td", {
            class: "cell", "data-testid": "heatmap-cell", dataset: { stage, channel, count, median },
            style: { background: heatColour(t), color: t > 0.6 ? "#fff" : "#111827" },
            title: `${stage}, ${channel}: median ${minutesText(median)} over ${count}`,
          }, minutesText(median), h("span", { class: "n" }, `n=${count}`));
        }))))),
    h("div", { class: "heatmap-legend" },
      "0 min", h("span", { class: "ramp", style: { background: `linear-gradient(90deg, ${heatColour(0)}, ${heatColour(0.5)}, ${heatColour(1)})` } }),
      `${minutesText(max)} (log scale)`));
}

// ------------------------------------------------------------------------------ trend chart

/** One entry per day of [from, to): days without requests are shown as zero. */
function everyDay(data) {
  const byKey = new Map((data.groups || []).map((g) => [String(g.key), g]));
  const days = [];
  if (data.from && data.to) {
    for (let d = data.from; d < data.to && days.length < 400; d = addDays(d, 1)) {
      days.push(byKey.get(d) || { key: d, label: d, requests: 0, on_time_rate: null, broken_promise_rate: null });
      byKey.delete(d);
    }
  }
  days.push(...byKey.values());
  return days.sort((a, b) => String(a.key).localeCompare(String(b.key)));
}

function renderTrend(el, data) {
  const days = everyDay(data);
  if (!days.some((d) => d.requests)) {
    replace(el, h("p", { class: "muted" }, "No requests in this period."));
    return;
  }
  const W = 560;
  const H = 240;
  const m = { l: 40, r: 44, t: 12, b: 34 };
  const iw = W - m.l - m.r;
  const ih = H - m.t - m.b;
  const maxReq = Math.max(1, ...days.map((d) => d.requests || 0));
  const step = iw / days.length;
  const x = (i) => m.l + step * (i + 0.5);
  const yReq = (n) => m.t + ih - (n / maxReq) * ih;
  const yRate = (r) => m.t + ih - r * ih;

  const bars = days.map((d, i) => s("rect", {
    class: "trend-bar", "data-testid": "trend-bar",
    x: x(i) - Math.min(step * 0.3, 18), width: Math.min(step * 0.6, 36), y: yReq(d.requests || 0), height: m.t + ih - yReq(d.requests || 0),
  }, s("title", {}, `${d.label ?? d.key}: ${d.requests} requests`)));

  const line = (field) => {
    let path = "";
    let pen = false;
    days.forEach((d, i) => {
      const v = d[field];
      if (v === null || v === undefined) {
        pen = false;
        return;
      }
      path += `${pen ? "L" : "M"}${x(i).toFixed(1)},${yRate(v).toFixed(1)}`;
      pen = true;
    });
    return path;
  };
  const dots = days.map((d, i) => (d.on_time_rate === null || d.on_time_rate === undefined
    ? null
    : s("circle", { class: "trend-dot", cx: x(i), cy: yRate(d.on_time_rate), r: 3 },
      s("title", {}, `${d.label ?? d.key}: ${pctText(d.on_time_rate)} on time`))));

  const labelEvery = Math.ceil(days.length / 10);
  const xLabels = days.map((d, i) => (i % labelEvery ? null
    : s("text", { x: x(i), y: H - m.b + 14, "text-anchor": "middle" }, String(d.label ?? d.key).slice(5))));
  const reqTicks = [0, Math.round(maxReq / 2), maxReq].map((n) => s("text", { x: m.l - 6, y: yReq(n) + 3, "text-anchor": "end" }, n));
  const rateTicks = [0, 0.5, 1].map((r) => s("text", { x: W - m.r + 6, y: yRate(r) + 3 }, `${r * 100} %`));

  replace(el,
    s("svg", {
      class: "trend-chart", "data-testid": "trend-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `Requests per day and on-time arrival rate, ${days.length} days`,
    },
    s("g", { class: "axis" },
      s("line", { x1: m.l, x2: W - m.r, y1: m.t + ih, y2: m.t + ih }),
      s("line", { x1: m.l, x2: m.l, y1: m.t, y2: m.t + ih }),
      s("line", { x1: W - m.r, x2: W - m.r, y1: m.t, y2: m.t + ih }),
      xLabels, reqTicks, rateTicks),
    bars,
    s("path", { class: "trend-line", "data-testid": "trend-line", d: line("on_time_rate") }),
    s("path", { class: "trend-line broken", d: line("broken_promise_rate") }),
    dots),
    h("div", { class: "trend-legend" },
      h("span", {}, h("i", { style: { background: "#cbd5e1", height: "10px" } }), "requests (left axis)"),
      h("span", {}, h("i", { style: { background: "var(--on_time)" } }), "on-time rate (right)"),
      h("span", {}, h("i", { style: { background: "var(--late)" } }), "broken-promise rate (right)")));
}
