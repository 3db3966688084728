// Colours of the board's routes (pure: unit-tested with Node's test runner).

// Route colours stay clear of the promise-state greens, ambers and reds: hues from cyan
// through blue and violet to magenta (170-330 degrees), spread by the golden angle so that
// neighbours differ most, in three lightnesses: 24 colours before one repeats.
const HUES = 8;
export const ROUTE_COLOURS = Array.from({ length: HUES * 3 }, (_, i) => {
  const hue = 170 + ((i * 0.618034 * 160) % 160);
  const lightness = [38, 52, 28][Math.floor(i / HUES)];
  return `hsl(${hue.toFixed(0)}, 70%, ${lightness}%)`;
});

/** The colour of the i-th route of the day (the same on the map and the timeline). */
export function routeColour(index) {
  return ROUTE_COLOURS[index % ROUTE_COLOURS.length];
}
