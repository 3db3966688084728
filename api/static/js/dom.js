// Small DOM helpers. Text from the server always goes in as text, never as HTML.

import { t } from "./i18n.js";

/**
 * Create an element: h("li", {class: "x", dataset: {id: 1}, onclick: fn}, "text", child).
 * Attributes set to null, undefined or false are left out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "style" && typeof value === "object") Object.assign(el.style, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Create an SVG element with attributes. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (name === "class") el.setAttribute("class", value);
    else el.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace the children of ``el``. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Show a status line: kind is "ok", "bad" or "" (neutral). */
export function setStatus(el, text, kind = "") {
  el.textContent = text;
  el.classList.toggle("ok", kind === "ok");
  el.classList.toggle("bad", kind === "bad");
}

/** A promise state in words ("on time"). */
export function stateLabel(state) {
  return t(`state.${state}`);
}

/** A small coloured label for a promise state. */
export function stateChip(state) {
  return h("span", { class: `chip state-${state}` }, stateLabel(state));
}

/** A small label for a priority tier. */
export function tierChip(tier) {
  return h("span", { class: `chip tier-${tier}` }, tier ? t(`tier.${tier}`) : "–");
}
