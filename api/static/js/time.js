// Times on the board are shown in the service area's timezone, never the browser's, in the
// board's language ("Tue 1 Dec, 14:30"; "12月1日周二 14:30").

import { currentLocale, t } from "./i18n.js";

const formatters = new Map();
// English dates read day-month ("1 Dec"), as the rest of the board writes them.
const INTL_LOCALE = { en: "en-GB", "zh-CN": "zh-CN" };

function formatter(timeZone, options, locale = INTL_LOCALE[currentLocale()] || "en-GB") {
  const id = `${locale}|${timeZone}|${JSON.stringify(options)}`;
  if (!formatters.has(id)) {
    formatters.set(id, new Intl.DateTimeFormat(locale, { timeZone, ...options }));
  }
  return formatters.get(id);
}

// Calendar arithmetic reads numeric parts, the same in every language.
const NUMERIC = "en-GB";

function toDate(value) {
  return value instanceof Date ? value : new Date(value);
}

/** The calendar date (YYYY-MM-DD) of an instant in ``timeZone``. */
export function dateIn(value, timeZone) {
  const parts = formatter(timeZone, { year: "numeric", month: "2-digit", day: "2-digit" }, NUMERIC)
    .formatToParts(toDate(value));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** "HH:MM" in ``timeZone``. */
export function hm(value, timeZone) {
  if (value === null || value === undefined) return "–";
  return formatter(timeZone, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .format(toDate(value));
}

/** "Mon 23 Nov" (a calendar day YYYY-MM-DD, in the board's language). */
export function dayText(day) {
  const [y, m, d] = day.split("-").map(Number);
  return formatter("UTC", { weekday: "short", day: "numeric", month: "short" })
    .format(new Date(Date.UTC(y, m - 1, d, 12)));
}

/** "Mon 23 Nov, HH:MM" in ``timeZone``. */
export function dayHm(value, timeZone) {
  if (value === null || value === undefined) return "–";
  return formatter(timeZone, {
    weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  }).format(toDate(value));
}

/** A window "HH:MM–HH:MM", with the day of the start when it is not ``day``. */
export function windowText(start, end, timeZone, day) {
  const startText = day && dateIn(start, timeZone) !== day ? dayHm(start, timeZone) : hm(start, timeZone);
  const endText = day && dateIn(end, timeZone) !== day ? dayHm(end, timeZone) : hm(end, timeZone);
  return `${startText}–${endText}`;
}

/** Milliseconds ``timeZone`` is ahead of UTC at instant ``ms``. */
export function offsetMs(ms, timeZone) {
  const parts = formatter(timeZone, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  }, NUMERIC).formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const wall = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The instant of the last local full hour at or before ``ms``. */
export function floorLocalHour(ms, timeZone) {
  const off = offsetMs(ms, timeZone);
  return ms - ((((ms + off) % 3600000) + 3600000) % 3600000);
}

/** The instant of the next local full hour at or after ``ms``. */
export function ceilLocalHour(ms, timeZone) {
  const floor = floorLocalHour(ms, timeZone);
  return floor === ms ? ms : floorLocalHour(floor + 3600000 + 1, timeZone);
}

/** ``day`` (YYYY-MM-DD) moved by ``days``. */
export function addDays(day, days) {
  const [y, m, d] = day.split("-").map(Number);
  const moved = new Date(Date.UTC(y, m - 1, d + days));
  return moved.toISOString().slice(0, 10);
}

/** Minutes as "1 h 05" or "35 min". */
export function minutesText(minutes) {
  if (minutes === null || minutes === undefined || Number.isNaN(minutes)) return "–";
  const rounded = Math.round(minutes);
  if (Math.abs(rounded) < 60) return t("unit.min", { n: rounded });
  const h = Math.trunc(rounded / 60);
  const m = Math.abs(rounded % 60);
  return t("unit.h_min", { h, m: String(m).padStart(2, "0") });
}
