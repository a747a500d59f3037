// The participant's own pain over time: an inline SVG line chart of the pain NRS average-pain
// score, with the same numbers as a table and a one-sentence summary for screen readers.

import { h } from "./render.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 320;
const HEIGHT = 180;
const PAD = { left: 28, right: 10, top: 10, bottom: 24 };

function s(tag, attributes = {}, text = null) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== null) element.textContent = text;
  return element;
}

const day = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const full = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });

// points: [{at: Date, value: number}] oldest first; scale: {min, max, label}.
export function renderTrend(points, scale) {
  if (!points.length) {
    return h("p", { class: "empty", text: "No pain ratings yet. Your ratings will appear here " +
                                          "once they have been sent." });
  }
  const first = points[0];
  const last = points[points.length - 1];
  const summary = points.length === 1
    ? `One rating so far: ${last.value} out of ${scale.max} on ${full.format(last.at)}.`
    : `${points.length} ratings from ${full.format(first.at)} to ${full.format(last.at)}. ` +
      `First ${first.value}, latest ${last.value}, out of ${scale.max}.`;

  const t0 = first.at.getTime();
  const span = Math.max(last.at.getTime() - t0, 1);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (at) => PAD.left + (points.length === 1 ? plotW / 2 : ((at.getTime() - t0) / span) * plotW);
  const y = (v) => PAD.top + plotH - ((v - scale.min) / (scale.max - scale.min)) * plotH;

  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "chart", role: "img",
                         "aria-labelledby": "trend-summary", focusable: "false" });
  for (let v = scale.min; v <= scale.max; v += Math.max(1, Math.round((scale.max - scale.min) / 5))) {
    svg.append(s("line", { x1: PAD.left, x2: WIDTH - PAD.right, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(s("text", { x: PAD.left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, String(v)));
  }
  svg.append(s("text", { x: PAD.left, y: HEIGHT - 6, class: "axis" }, day.format(first.at)));
  if (points.length > 1) {
    svg.append(s("text", { x: WIDTH - PAD.right, y: HEIGHT - 6, class: "axis", "text-anchor": "end" },
                 day.format(last.at)));
  }
  svg.append(s("polyline", { class: "line",
                             points: points.map((p) => `${x(p.at)},${y(p.value)}`).join(" ") }));
  for (const p of points) svg.append(s("circle", { cx: x(p.at), cy: y(p.value), r: 4, class: "dot" }));

  const table = h("table", { class: "trend-table" },
    h("caption", { text: scale.label }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Date" }),
                             h("th", { scope: "col", text: `Pain (0–${scale.max})` }))),
    h("tbody", {}, [...points].reverse().map((p) => h("tr", {},
      h("td", { text: full.format(p.at) }), h("td", { text: String(p.value) })))));

  return h("div", { class: "trend" },
    h("p", { id: "trend-summary", class: "summary", text: summary }),
    h("figure", {}, svg),
    h("details", {}, h("summary", { text: "Show the ratings as a table" }), table));
}
