// Load the board's message catalogues for the tests.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("../../api/static/i18n/", import.meta.url));

export function catalogue(name) {
  return JSON.parse(readFileSync(`${here}${name}.json`, "utf8"));
}
