// The board's language: message catalogues are data files (api/static/i18n/<locale>.json),
// the same files the API reads for its own messages (Accept-Language). English is the
// fallback for a key a catalogue lacks. Dates, times and numbers use the browser's Intl.

export const LOCALES = ["en", "zh-CN"];
const STORE = "onsite.locale";

let locale = "en";
let messages = {};
let fallback = {};

/** The locale the board starts in: the one chosen before, else the browser's first match. */
export function preferredLocale(languages = navigator.languages || [navigator.language]) {
  const chosen = localStorage.getItem(STORE);
  if (LOCALES.includes(chosen)) return chosen;
  return matchLocale(languages);
}

/** The supported locale for a browser's language list ("zh-TW" and "zh" read Chinese too). */
export function matchLocale(languages) {
  for (const lang of languages || []) {
    const low = String(lang).toLowerCase();
    if (low.startsWith("zh")) return "zh-CN";
    if (low.startsWith("en")) return "en";
  }
  return "en";
}

async function fetchCatalogue(name) {
  const response = await fetch(`/static/i18n/${name}.json`);
  if (!response.ok) throw new Error(`the ${name} messages could not be loaded (${response.status})`);
  return response.json();
}

/** Load ``name``'s catalogue (and English for what it lacks) and make it current. */
export async function setLocale(name, { remember = false } = {}) {
  const wanted = LOCALES.includes(name) ? name : "en";
  const [found, english] = await Promise.all([
    fetchCatalogue(wanted),
    Object.keys(fallback).length ? fallback : fetchCatalogue("en"),
  ]);
  fallback = english;
  messages = found;
  locale = wanted;
  if (remember) localStorage.setItem(STORE, wanted);
  document.documentElement.lang = wanted;
  translatePage(document);
  return wanted;
}

export function currentLocale() {
  return locale;
}

/** Use catalogues already at hand (the JS unit tests). */
export function useCatalogue(name, found, english = found) {
  locale = name;
  messages = found;
  fallback = english;
}

const plurals = new Map();

/**
 * The message ``key`` with ``{name}`` placeholders filled from ``params``. A ``count`` param
 * picks the plural form ``key.one`` / ``key.other`` when the catalogue has them.
 */
export function t(key, params = {}) {
  let template;
  if (typeof params.count === "number") {
    if (!plurals.has(locale)) plurals.set(locale, new Intl.PluralRules(locale));
    const form = plurals.get(locale).select(params.count);
    template = messages[`${key}.${form}`] ?? messages[`${key}.other`]
      ?? fallback[`${key}.${form}`] ?? fallback[`${key}.other`];
  }
  template = template ?? messages[key] ?? fallback[key];
  if (template === undefined) return key;
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    params[name] === undefined || params[name] === null ? whole : String(params[name]));
}

/** A number in the locale's format ("1,234.5"; "%" and units are added by the messages). */
export function num(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits })
    .format(value);
}

/**
 * Translate the static page: data-i18n="key" sets the text, data-i18n-attr="attr:key;attr:key"
 * sets attributes (placeholder, aria-label, title).
 */
export function translatePage(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(";")) {
      const [attr, key] = pair.split(":");
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
  if (messages["page.title"]) document.title = t("page.title");
}
