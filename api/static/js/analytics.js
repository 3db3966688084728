// The analytics page: the service-level KPIs by a grouping, the stage x channel heatmap of
// median minutes, a daily trend chart, and CSV downloads of both (fetched with the key).

import { ApiError, query } from "./api.js";
import { h, replace, s, setStatus } from "./dom.js";
import { num, t } from "./i18n.js";
import { addDays, dateIn, minutesText } from "./time.js";

const $ = (id) => document.getElementById(id);

const pctText = (x) => (x === null || x === undefined ? "–" : t("unit.pct", { n: num(x * 100) }));
const minText = (x) => (x === null || x === undefined ? "–" : t("unit.min", { n: num(x) }));

// [key, label, the figure, what it is based on (a count, shown beside it)]
const COLUMNS = [
  ["requests", "an.requests", (g) => (g.requests ?? "–"), null],
  ["fr_mean", "an.fr_mean", (g) => minText(g.first_response_min?.mean), (g) => g.responses],
  ["fr_median", "an.median", (g) => minText(g.first_response_min?.median), (g) => g.responses],
  ["fr_p90", "an.p90", (g) => minText(g.first_response_min?.p90), (g) => g.responses],
  ["arr_mean", "an.arr_mean", (g) => minText(g.arrival_min?.mean), (g) => g.arrivals],
  ["arr_p90", "an.p90", (g) => minText(g.arrival_min?.p90), (g) => g.arrivals],
  ["on_time", "an.on_time", (g) => pctText(g.on_time_rate), (g) => g.arrivals],
  ["broken", "an.broken", (g) => pctText(g.broken_promise_rate), (g) => g.promises_judged],
  ["resp_overdue", "an.resp_overdue", (g) => pctText(g.response_overdue_ratio), (g) => g.with_response_due],
  ["res_overdue", "an.res_overdue", (g) => pctText(g.resolution_overdue_ratio), (g) => g.with_resolution_due],
  ["utilisation", "an.utilisation", (g) => pctText(g.utilisation), null],
  ["travel_share", "an.travel_share", (g) => pctText(g.travel_share), null],
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
  show({ reload = false } = {}) {
    if (this.loadedOnce) {
      if (reload) this.load();
      return;
    }
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
      setStatus(status, t("an.bad_range"), "bad");
      return;
    }
    const token = ++this.token;
    const groupBy = $("an-group").value;
    setStatus(status, t("an.loading"));
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
    else problems.push(this.explain(t("an.kpis"), sla.reason, $("sla-table")));
    if (heatmap.status === "fulfilled") renderHeatmap($("heatmap"), heatmap.value);
    else problems.push(this.explain(t("an.heatmap"), heatmap.reason, $("heatmap")));
    if (trend.status === "fulfilled") renderTrend($("trend"), trend.value);
    else problems.push(this.explain(t("an.trend"), trend.reason, $("trend")));
    if (problems.length) setStatus(status, problems.join(" "), "bad");
    else setStatus(status, t("an.shown", { from, to, group: t(`an.group.${groupBy}`) }));
  }

  explain(what, err, el) {
    const message = err instanceof ApiError && err.status === 404
      ? t("an.not_here", { what })
      : t("an.load_failed", { what, error: err.message });
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
      setStatus($("analytics-status"), t("an.downloaded", { name }), "ok");
    } catch (err) {
      setStatus($("analytics-status"), t("an.download_failed", { error: err.message }), "bad");
    }
  }
}

// ------------------------------------------------------------------------------ KPI table

function renderSlaTable(el, data) {
  const groups = data.groups || [];
  const perEngineer = data.group_by === "engineer" ||
    groups.some((g) => g.utilisation !== null && g.utilisation !== undefined);
  const columns = COLUMNS.filter(([key]) => perEngineer || (key !== "utilisation" && key !== "travel_share"));
  // Each figure with the number it is based on, so a 100 % of one visit reads as such.
  const cell = (g, value, basis) => {
    const n = basis ? basis(g) : null;
    return h("td", { dataset: n === null || n === undefined ? {} : { n } }, value(g),
      n === null || n === undefined ? null : h("span", { class: "n", title: t("an.based_on", { count: n }) }, `n=${n}`));
  };
  const row = (g, cls) => h("tr", { class: cls, dataset: { key: g.key ?? "" } },
    h("td", {}, g.label ?? String(g.key)), columns.map(([, , value, basis]) => cell(g, value, basis)));
  replace(el, h("table", { class: "sla" },
    h("thead", {}, h("tr", {}, h("th", {}, t(`an.group.${data.group_by}`)), columns.map(([, label]) => h("th", { scope: "col" }, t(label))))),
    h("tbody", {}, groups.length
      ? groups.map((g) => row(g, "group"))
      : h("tr", {}, h("td", { colspan: columns.length + 1, class: "muted" }, t("an.none")))),
    data.total ? h("tfoot", {}, row({ ...data.total, label: t("an.all") }, "total")) : null));
}

// ------------------------------------------------------------------------------ heatmap

// Pale to dark; a log scale keeps minutes of response and hours of resolution both legible.
function heatColour(u) {
  const lo = [239, 246, 255];
  const mid = [251, 191, 36];
  const hi = [185, 28, 28];
  const mix = (a, b, w) => a.map((x, i) => Math.round(x + (b[i] - x) * w));
  const c = u < 0.5 ? mix(lo, mid, u * 2) : mix(mid, hi, (u - 0.5) * 2);
  return `rgb(${c.join(",")})`;
}

function renderHeatmap(el, data) {
  const cells = new Map(data.cells.map((c) => [`${c.stage}|${c.channel}`, c]));
  const medians = data.cells.map((c) => c.median_min).filter((m) => m !== null && m !== undefined);
  const max = Math.max(1, ...medians);
  const scale = (m) => Math.log1p(m) / Math.log1p(max);
  replace(el,
    h("table", { class: "heatmap" },
      h("thead", {}, h("tr", {}, h("th", {}, t("an.stage_channel")), data.channels.map((c) => h("th", { scope: "col" }, t(`channel.${c}`))))),
      h("tbody", {}, data.stages.map((stage) => h("tr", {},
        h("th", { scope: "row" }, t(`stage.${stage}`)),
        data.channels.map((channel) => {
          const cell = cells.get(`${stage}|${channel}`);
          const median = cell ? cell.median_min : null;
          const count = cell ? cell.count : 0;
          if (median === null || median === undefined) {
            return h("td", { class: "cell empty", "data-testid": "heatmap-cell", dataset: { stage, channel, count } }, "–");
          }
          const u = scale(median);
          return h("td", {
            class: "cell", "data-testid": "heatmap-cell", dataset: { stage, channel, count, median },
            style: { background: heatColour(u), color: u > 0.6 ? "#fff" : "#111827" },
            title: t("an.cell_title", { stage: t(`stage.${stage}`), channel: t(`channel.${channel}`), median: minutesText(median), count }),
          }, minutesText(median), h("span", { class: "n" }, `n=${count}`));
        }))))),
    h("div", { class: "heatmap-legend" },
      minutesText(0), h("span", { class: "ramp", style: { background: `linear-gradient(90deg, ${heatColour(0)}, ${heatColour(0.5)}, ${heatColour(1)})` } }),
      t("an.log_scale", { max: minutesText(max) })));
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
    replace(el, h("p", { class: "muted" }, t("an.none")));
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
  }, s("title", {}, `${d.label ?? d.key}: ${t("unit.requests", { n: d.requests, count: d.requests })}`)));

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
      s("title", {}, t("an.dot_title", { day: d.label ?? d.key, pct: pctText(d.on_time_rate), count: d.arrivals ?? 0 })))));

  const labelEvery = Math.ceil(days.length / 10);
  const xLabels = days.map((d, i) => (i % labelEvery ? null
    : s("text", { x: x(i), y: H - m.b + 14, "text-anchor": "middle" }, String(d.label ?? d.key).slice(5))));
  const reqTicks = [0, Math.round(maxReq / 2), maxReq].map((n) => s("text", { x: m.l - 6, y: yReq(n) + 3, "text-anchor": "end" }, n));
  const rateTicks = [0, 0.5, 1].map((r) => s("text", { x: W - m.r + 6, y: yRate(r) + 3 }, pctText(r)));

  replace(el,
    s("svg", {
      class: "trend-chart", "data-testid": "trend-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": t("an.trend_label", { count: days.length }),
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
      h("span", {}, h("i", { style: { background: "#cbd5e1", height: "10px" } }), t("an.legend_requests")),
      h("span", {}, h("i", { style: { background: "var(--on_time)" } }), t("an.legend_on_time")),
      h("span", {}, h("i", { style: { background: "var(--late)" } }), t("an.legend_broken"))));
}
