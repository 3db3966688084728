// Pure helpers of the board, run with Node's test runner (`node --test tests/js`): times per
// locale, messages and plurals, route colours, search and filters, dropping on the timeline.

import assert from "node:assert/strict";
import { describe, it, beforeEach } from "node:test";

import { ROUTE_COLOURS, routeColour } from "../../api/static/js/colours.js";
import { choices, countMatches, isActive, matches, namedBy, NO_FILTERS } from "../../api/static/js/find.js";
import { matchLocale, t, useCatalogue } from "../../api/static/js/i18n.js";
import { dateIn, dayHm, dayText, hm, minutesText, windowText } from "../../api/static/js/time.js";
import { shortRef, snapTime } from "../../api/static/js/timeline.js";
import { catalogue } from "./helpers.mjs";

const EN = catalogue("en");
const ZH = catalogue("zh-CN");
const SHANGHAI = "Asia/Shanghai";
const AT = "2026-11-23T06:30:00Z"; // Monday 14:30 in Shanghai

describe("times on the area's clock, in the board's language", () => {
  beforeEach(() => useCatalogue("en", EN));

  it("writes English dates day-month and 24-hour times, in the area's zone", () => {
    assert.equal(hm(AT, SHANGHAI), "14:30");
    assert.equal(hm(AT, "Europe/London"), "06:30");
    assert.equal(dayHm(AT, SHANGHAI), "Mon 23 Nov, 14:30");
    assert.equal(dayText("2026-12-01"), "Tue 1 Dec");
  });

  it("writes Chinese dates the Chinese way", () => {
    useCatalogue("zh-CN", ZH, EN);
    assert.equal(hm(AT, SHANGHAI), "14:30");
    assert.match(dayText("2026-12-01"), /12月1日/);
    assert.match(dayText("2026-12-01"), /周二/);
    assert.match(dayHm(AT, SHANGHAI), /11月23日.*14:30/);
  });

  it("finds the calendar day of an instant in the zone, in any language", () => {
    useCatalogue("zh-CN", ZH, EN);
    assert.equal(dateIn("2026-11-23T17:00:00Z", SHANGHAI), "2026-11-24");
    assert.equal(dateIn("2026-11-23T17:00:00Z", "UTC"), "2026-11-23");
  });

  it("names the day of a window's end only when it is another day", () => {
    assert.equal(windowText("2026-11-23T06:00:00Z", "2026-11-23T08:00:00Z", SHANGHAI, "2026-11-23"), "14:00–16:00");
    assert.match(windowText("2026-11-23T14:00:00Z", "2026-11-24T02:00:00Z", SHANGHAI, "2026-11-23"), /Tue 24 Nov, 10:00$/);
  });

  it("writes durations with their unit in each language", () => {
    assert.equal(minutesText(35), "35 min");
    assert.equal(minutesText(125), "2 h 05");
    useCatalogue("zh-CN", ZH, EN);
    assert.equal(minutesText(35), "35 分钟");
    assert.equal(minutesText(125), "2 小时 05 分");
    assert.equal(minutesText(null), "–");
  });
});

describe("messages", () => {
  it("fills placeholders and picks the plural form the language needs", () => {
    useCatalogue("en", EN);
    assert.equal(t("timeline.visits", { count: 1 }), "1 visit");
    assert.equal(t("timeline.visits", { count: 3 }), "3 visits");
    useCatalogue("zh-CN", ZH, EN);
    assert.equal(t("timeline.visits", { count: 1 }), "1 次上门");
    assert.equal(t("move.to", { name: "王伟" }), "给王伟（最佳位置）");
  });

  it("falls back to English, then to the key, and leaves unknown placeholders as they are", () => {
    useCatalogue("zh-CN", { "only.here": "{a} 和 {b}" }, EN);
    assert.equal(t("tab.alerts"), "Alerts");
    assert.equal(t("no.such.key"), "no.such.key");
    assert.equal(t("only.here", { a: 1 }), "1 和 {b}");
  });

  it("reads the browser's languages: any Chinese is Chinese, the rest English", () => {
    assert.equal(matchLocale(["zh-TW", "en"]), "zh-CN");
    assert.equal(matchLocale(["en-US", "zh-CN"]), "en");
    assert.equal(matchLocale(["fr-FR"]), "en");
    assert.equal(matchLocale([]), "en");
  });

  it("has every English message in Chinese too", () => {
    const base = (k) => k.replace(/\.(one|other)$/, "");
    const zh = new Set(Object.keys(ZH).map(base));
    const missing = Object.keys(EN).map(base).filter((k) => !zh.has(k));
    assert.deepEqual(missing, []);
  });
});

describe("route colours", () => {
  it("gives 24 distinct colours before one repeats", () => {
    assert.equal(new Set(ROUTE_COLOURS).size, 24);
    assert.equal(routeColour(24), routeColour(0));
    assert.notEqual(routeColour(20), routeColour(0));
  });

  it("stays clear of the promise states' greens, ambers and reds", () => {
    for (const colour of ROUTE_COLOURS) {
      const hue = Number(/hsl\((\d+)/.exec(colour)[1]);
      assert.ok(hue >= 170 && hue <= 330, `${colour} is off the cyan-to-magenta range`);
    }
  });
});

describe("search and filters", () => {
  const visit = {
    external_ref: "DEMO-0042", customer: "Shanghai Cold Chain Co.", tier: "urgent",
    promise_state: "late", status: "planned",
    site: { name: "Plant 3", address: "131 Industrial Road" },
    skills: [{ skill: "plc", min_level: 3 }],
  };
  const plan = {
    routes: [{ engineer: { id: 1, name: "Wang Wei" }, visits: [visit, { ...visit, external_ref: "DEMO-0043", tier: "general", promise_state: "on_time", skills: [] }] }],
    unassigned: [{ ...visit, external_ref: "DEMO-0050", status: undefined }],
  };

  it("matches everything with no filters", () => {
    assert.equal(isActive(NO_FILTERS), false);
    assert.equal(matches(visit, NO_FILTERS), true);
  });

  it("finds text in the reference, customer, site and engineer, whatever the case", () => {
    const f = (text) => ({ ...NO_FILTERS, text });
    assert.ok(matches(visit, f("demo-0042")));
    assert.ok(matches(visit, f("cold chain")));
    assert.ok(matches(visit, f("industrial")));
    assert.ok(matches(visit, f("wang"), "Wang Wei"));
    assert.ok(!matches(visit, f("wang"), "Li Na"));
  });

  it("needs every chosen filter to hold", () => {
    assert.ok(matches(visit, { ...NO_FILTERS, skill: "plc", tier: "urgent", state: "late", status: "planned" }));
    assert.ok(!matches(visit, { ...NO_FILTERS, tier: "general" }));
    assert.ok(!matches(visit, { ...NO_FILTERS, skill: "hvac" }));
    assert.ok(matches(plan.unassigned[0], { ...NO_FILTERS, status: "unassigned" }));
  });

  it("shows an engineer found by name only when the search is text alone", () => {
    assert.ok(namedBy({ ...NO_FILTERS, text: " wang " }, "王伟 Wang Wei"));
    assert.ok(!namedBy({ ...NO_FILTERS, text: "wang", tier: "urgent" }, "王伟 Wang Wei"));
    assert.ok(!namedBy(NO_FILTERS, "王伟 Wang Wei"));
  });

  it("offers the day's own choices and counts the matches", () => {
    assert.deepEqual(choices(plan).tier, ["general", "urgent"]);
    assert.deepEqual(choices(plan).status, ["planned", "unassigned"]);
    assert.deepEqual(countMatches(plan, { ...NO_FILTERS, tier: "urgent" }), { visits: 1, of: 2, unassigned: 1 });
  });
});

describe("dropping on the timeline", () => {
  it("lands on the nearest five-minute mark", () => {
    const at = Date.parse("2026-11-23T06:32:10Z");
    assert.equal(new Date(snapTime(at)).toISOString(), "2026-11-23T06:30:00.000Z");
    assert.equal(new Date(snapTime(at + 60_000)).toISOString(), "2026-11-23T06:35:00.000Z");
  });
});

describe("bars' labels", () => {
  it("show the reference's closing number", () => {
    assert.equal(shortRef("DEMO-0040"), "40");
    assert.equal(shortRef("CRM-261123-018"), "18");
    assert.equal(shortRef("CASE-0"), "0");
    assert.equal(shortRef("ABCDEF"), "CDEF");
  });
});
