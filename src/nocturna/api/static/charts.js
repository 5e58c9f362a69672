// Time charts: the weather over the night (one strip per quantity, unsafe periods
// shaded) and the timeline of tonight's states (parks marked).

import { svg } from "./dom.js";
import { hhmm, parseTime } from "./format.js";

// Charts are drawn in CSS pixels at the container's width (redrawn when it changes),
// so their text keeps the page's size on any screen.
const PAD_L = 34;
const PAD_R = 8;

function widthOf(container) {
  return Math.max(container.clientWidth || 0, 200);
}

/** The quantities shown, with the keys the readings may use for each. */
export const WEATHER_SERIES = [
  { label: "Temperature", unit: "°C", keys: ["temperature_c"], digits: 1 },
  { label: "Humidity", unit: "%", keys: ["humidity_pct"], min: 0, max: 100, digits: 0 },
  { label: "Wind", unit: "m/s", keys: ["wind_m_s", "wind_speed_m_s"], min: 0, digits: 1 },
  { label: "Clouds", unit: "%", keys: ["cloud_cover_pct"], min: 0, max: 100, digits: 0 },
  { label: "Rain", unit: "mm/h", keys: ["rain_rate_mm_h"], min: 0, digits: 1 },
];

function valueOf(reading, keys) {
  for (const key of keys) {
    const v = reading?.[key];
    if (v !== null && v !== undefined && Number.isFinite(Number(v))) return Number(v);
  }
  return null;
}

function xScale(t0, t1, left, right) {
  const span = Math.max(t1 - t0, 1);
  return (t) => left + ((t - t0) / span) * (right - left);
}

/** The periods where the readings say unsafe: [[start, end]...] in ms. */
export function unsafePeriods(points) {
  const periods = [];
  let start = null;
  for (const p of points) {
    if (p.safe === false && start === null) start = p.t;
    if (p.safe !== false && start !== null) { periods.push([start, p.t]); start = null; }
  }
  if (start !== null) periods.push([start, points.at(-1).t]);
  return periods;
}

function timeAxis(x, t0, t1, y, height, width) {
  const g = svg("g", { class: "chart-axis" });
  const hour = 3600e3;
  const span = t1 - t0;
  const ticks = Math.max(2, Math.floor(width / 60)); // at most one label per 60 px
  const step = [hour / 6, hour / 2, hour, 2 * hour, 3 * hour, 6 * hour].find((s) => span / s <= ticks) ?? 12 * hour;
  const [left, right] = [x(t0), x(t1)];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    g.append(svg("line", { x1: x(t), x2: x(t), y1: 0, y2: height, class: "chart-gridline" }));
    const anchor = x(t) - left < 16 ? "start" : right - x(t) < 16 ? "end" : "middle";
    g.append(svg("text", { x: x(t), y, "text-anchor": anchor, class: "chart-tick", text: hhmm(t) }));
  }
  return g;
}

/**
 * Draw the weather strips into `container`.
 * rows: [{time, data: {temperature_c, ..., safe}}] (the unit's weather telemetry).
 */
export function drawWeather(container, rows) {
  const points = rows
    .map((row) => ({ t: parseTime(row.time), ...(row.data ?? row), safe: (row.data ?? row).safe }))
    .filter((p) => p.t !== null)
    .sort((a, b) => a.t - b.t);
  if (points.length < 2) {
    container.replaceChildren(Object.assign(document.createElement("p"), {
      className: "empty", textContent: points.length ? "One reading so far." : "No weather readings yet tonight.",
    }));
    return;
  }
  const W = widthOf(container);
  const t0 = points[0].t;
  const t1 = points.at(-1).t;
  const x = xScale(t0, t1, PAD_L, W - PAD_R);
  const stripH = 44;
  const gap = 10;
  const height = WEATHER_SERIES.length * (stripH + gap) + 16;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${height}`, width: W, height, class: "weather-chart",
    role: "img", "aria-label": "Weather over the night" });
  const bands = svg("g", { class: "chart-unsafe" });
  for (const [a, b] of unsafePeriods(points)) {
    bands.append(svg("rect", { x: x(a), y: 0, width: Math.max(x(b) - x(a), 1.5), height: height - 16 },
      svg("title", { text: `unsafe ${hhmm(a)}–${hhmm(b)}` })));
  }
  chart.append(bands, timeAxis(x, t0, t1, height - 3, height - 16, W - PAD_L));
  WEATHER_SERIES.forEach((series, i) => {
    const top = i * (stripH + gap) + 2;
    const values = points.map((p) => [p.t, valueOf(p, series.keys)]).filter(([, v]) => v !== null);
    const g = svg("g", { class: "weather-strip", "data-series": series.label.toLowerCase() });
    const last = values.at(-1)?.[1];
    g.append(svg("text", { x: PAD_L + 2, y: top + 10, class: "chart-title",
      text: `${series.label}${last === undefined ? "" : ` ${last.toFixed(series.digits)} ${series.unit}`}` }));
    const vs = values.map(([, v]) => v);
    let lo = Math.min(...vs, series.min ?? Infinity);
    let hi = Math.max(...vs, series.max ?? -Infinity);
    if (series.max === undefined && hi - lo < 1) hi = lo + 1;
    if (series.min === undefined) { const m = (hi - lo) * 0.1; lo -= m; hi += m; }
    const y = (v) => top + stripH - ((v - lo) / (hi - lo || 1)) * (stripH - 14);
    g.append(svg("line", { x1: PAD_L, x2: W - PAD_R, y1: top + stripH, y2: top + stripH, class: "chart-baseline" }));
    g.append(svg("text", { x: PAD_L - 4, y: top + stripH, "text-anchor": "end", class: "chart-tick", text: lo.toFixed(0) }));
    g.append(svg("text", { x: PAD_L - 4, y: top + 18, "text-anchor": "end", class: "chart-tick", text: hi.toFixed(0) }));
    if (values.length) {
      const d = values.map(([t, v], k) => `${k ? "L" : "M"}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join("");
      g.append(svg("path", { d, class: "chart-line" }));
    } else {
      g.append(svg("text", { x: (W + PAD_L) / 2, y: top + 30, "text-anchor": "middle", class: "chart-tick", text: "not measured" }));
    }
    chart.append(g);
  });
  container.replaceChildren(chart);
}

const PARK_STATES = ["parking", "parked"];

/**
 * Tonight's parks from the transitions (sorted by time): [{start, end, reason}] in ms,
 * `end` null while the unit is still parked; `reason` is why it went to park.
 */
export function parkPeriods(transitions) {
  const parks = [];
  let open = null;
  for (const tr of transitions) {
    const t = parseTime(tr.time);
    if (t === null) continue;
    const parking = PARK_STATES.includes(tr.to_state);
    if (parking && open === null) {
      open = { start: t, end: null, reason: tr.reason ?? "" };
      parks.push(open);
    } else if (!parking && open !== null) {
      open.end = t;
      open = null;
    }
  }
  return parks;
}

/** The kind of a state, for its colour: parks stand out. */
export function stateClass(state) {
  if (!state) return "state-unknown";
  if (PARK_STATES.includes(state)) return "state-park";
  if (["observing", "tracking", "analyzing"].includes(state)) return "state-observe";
  if (["slewing", "pointing", "focusing", "scheduling"].includes(state)) return "state-prepare";
  if (["flats", "housekeeping"].includes(state)) return "state-calib";
  if (state === "paused") return "state-paused";
  return "state-idle";
}

/**
 * Draw the night's timeline: one coloured segment per state, from the first
 * transition to `now` (ms). transitions: [{time, from_state, to_state, reason}].
 */
export function drawTimeline(container, transitions, now) {
  const steps = transitions
    .map((tr) => ({ t: parseTime(tr.time), state: tr.to_state, reason: tr.reason }))
    .filter((s) => s.t !== null)
    .sort((a, b) => a.t - b.t);
  if (!steps.length) {
    container.replaceChildren();
    return;
  }
  const W = widthOf(container);
  const t0 = steps[0].t;
  const t1 = Math.max(now ?? steps.at(-1).t, steps.at(-1).t + 1);
  const x = xScale(t0, t1, 1, W - 1);
  const h = 42;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${h}`, width: W, height: h, class: "timeline-chart",
    role: "img", "aria-label": "Tonight's states over time; parks in red" });
  chart.append(timeAxis(x, t0, t1, h - 3, 26, W));
  steps.forEach((step, i) => {
    const end = i + 1 < steps.length ? steps[i + 1].t : t1;
    chart.append(svg("rect", { x: x(step.t), y: 2, width: Math.max(x(end) - x(step.t), 0.6), height: 22,
      class: `timeline-seg ${stateClass(step.state)}` },
    svg("title", { text: `${hhmm(step.t)} ${step.state}: ${step.reason ?? ""}` })));
  });
  container.replaceChildren(chart);
}
