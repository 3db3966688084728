// Search and filters on the board: which visits and requests match what the dispatcher typed
// and chose. Pure functions (unit-tested with Node's test runner).

/** The filters as the board holds them; every field empty means "show everything". */
export const NO_FILTERS = Object.freeze({ text: "", skill: "", tier: "", state: "", status: "" });

export function isActive(filters) {
  return Boolean(filters && (filters.text.trim() || filters.skill || filters.tier || filters.state || filters.status));
}

function fold(text) {
  return String(text ?? "").normalize("NFKC").toLowerCase();
}

function textMatches(needle, fields) {
  if (!needle) return true;
  return fields.some((field) => fold(field).includes(needle));
}

/**
 * Whether a visit (or an unassigned request: no engineer, status "unassigned") matches. Text
 * is looked for in the reference, the customer, the site's name and address and the engineer's
 * name; the choices must all hold.
 */
export function matches(item, filters, engineerName = "") {
  if (!isActive(filters)) return true;
  const needle = fold(filters.text.trim());
  if (!textMatches(needle, [item.external_ref, item.customer, item.site?.name, item.site?.address, engineerName])) {
    return false;
  }
  if (filters.skill && !(item.skills || []).some((s) => s.skill === filters.skill)) return false;
  if (filters.tier && item.tier !== filters.tier) return false;
  if (filters.state && item.promise_state !== filters.state) return false;
  if (filters.status && (item.status || "unassigned") !== filters.status) return false;
  return true;
}

/** Whether the search is only for text and ``name`` (an engineer's) holds it: that
 * engineer's row shows even on a day without visits. */
export function namedBy(filters, name) {
  const only = filters.text.trim() && !filters.skill && !filters.tier && !filters.state && !filters.status;
  return Boolean(only) && fold(name).includes(fold(filters.text.trim()));
}

/** The choices the day offers: skills, tiers, states and statuses present in the plan. */
export function choices(plan) {
  const all = plan ? [...plan.routes.flatMap((r) => r.visits), ...plan.unassigned] : [];
  const sorted = (values) => [...new Set(values.filter(Boolean))].sort();
  return {
    skill: sorted(all.flatMap((v) => (v.skills || []).map((s) => s.skill))),
    tier: sorted(all.map((v) => v.tier)),
    state: sorted(all.map((v) => v.promise_state)),
    status: sorted(all.map((v) => v.status || "unassigned")),
  };
}

/** How many of the day's visits and unassigned requests match. */
export function countMatches(plan, filters) {
  if (!plan) return { visits: 0, of: 0, unassigned: 0 };
  let visits = 0;
  let of = 0;
  for (const route of plan.routes) {
    for (const v of route.visits) {
      of += 1;
      if (matches(v, filters, route.engineer.name)) visits += 1;
    }
  }
  const unassigned = plan.unassigned.filter((u) => matches(u, filters)).length;
  return { visits, of, unassigned };
}
