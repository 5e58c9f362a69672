// The sky chart: an alt-az polar plot, zenith at the centre, the horizon (alt 0) on
// the rim, north up and east left (the sky seen from below). Shows the local
// horizon's obstructions, the plan's fields, the Moon, the telescope and the dome slit.

import { svg } from "./dom.js";

const R = 100; // the radius of altitude 0

export function project(altDeg, azDeg) {
  const r = (R * (90 - Math.max(altDeg, 0))) / 90;
  const a = (azDeg * Math.PI) / 180;
  return [-r * Math.sin(a), -r * Math.cos(a)];
}

/** The horizon's altitude at every whole degree of azimuth (linear in azimuth). */
function horizonProfile(points) {
  const sorted = (points || [])
    .map(([az, alt]) => [((Number(az) % 360) + 360) % 360, Number(alt)])
    .filter(([az, alt]) => Number.isFinite(az) && Number.isFinite(alt))
    .sort((p, q) => p[0] - q[0]);
  if (!sorted.length) return null;
  const ring = [[sorted.at(-1)[0] - 360, sorted.at(-1)[1]], ...sorted, [sorted[0][0] + 360, sorted[0][1]]];
  const profile = [];
  for (let az = 0; az <= 360; az += 1) {
    let i = 1;
    while (i < ring.length - 1 && ring[i][0] < az) i += 1;
    const [a0, h0] = ring[i - 1];
    const [a1, h1] = ring[i];
    const t = a1 === a0 ? 0 : (az - a0) / (a1 - a0);
    profile.push([az, h0 + t * (h1 - h0)]);
  }
  return profile;
}

function pathOf(points) {
  return points.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(2)},${y.toFixed(2)}`).join("") + "Z";
}

function circlePath(r) {
  return `M${-r},0A${r},${r} 0 1,0 ${r},0A${r},${r} 0 1,0 ${-r},0Z`;
}

function grid() {
  const g = svg("g", { class: "sky-grid" });
  for (const alt of [30, 60]) g.append(svg("circle", { r: (R * (90 - alt)) / 90, class: "sky-ring" }));
  for (let az = 0; az < 360; az += 45) {
    const [x, y] = project(0, az);
    g.append(svg("line", { x1: 0, y1: 0, x2: x, y2: y, class: "sky-spoke" }));
  }
  for (const [label, az] of [["N", 0], ["E", 90], ["S", 180], ["W", 270]]) {
    const [x, y] = project(-10, az).map((v) => v * 1.09);
    g.append(svg("text", { x, y, class: "sky-cardinal", "dominant-baseline": "middle", "text-anchor": "middle", text: label }));
  }
  for (const alt of [30, 60]) {
    const [x, y] = project(alt, 135);
    g.append(svg("text", { x: x + 2, y: y - 2, class: "sky-ring-label", text: `${alt}°` }));
  }
  return g;
}

function horizon(points) {
  const profile = horizonProfile(points);
  if (!profile) return null;
  const line = profile.map(([az, alt]) => project(alt, az));
  return svg("path", { d: circlePath(R) + pathOf(line), class: "sky-horizon", "fill-rule": "evenodd" });
}

function fieldMarks(fields, current) {
  const g = svg("g", { class: "sky-fields" });
  for (const field of fields || []) {
    if (!(field.alt_deg > 0)) continue;
    const [x, y] = project(field.alt_deg, field.az_deg);
    const cls = `${field.done ? "done" : field.planned ? "planned" : "other"}${field.name === current ? " current" : ""}`;
    const mark = svg("g", { class: `sky-field ${cls}` },
      svg("circle", { cx: x, cy: y, r: 3.2 }),
      svg("title", { text: `${field.name}: alt ${field.alt_deg.toFixed(0)}°, az ${field.az_deg.toFixed(0)}°${field.done ? " (done)" : field.planned ? " (planned)" : ""}` }));
    if ((field.planned && !field.done) || field.name === current) { // done ones: a tooltip
      mark.append(svg("text", { x: x + 4.5, y: y + 1.5, class: "sky-label", text: field.name }));
    }
    g.append(mark);
  }
  return g;
}

function moonMark(moon) {
  if (!moon || !(moon.alt_deg > 0)) return null;
  const [x, y] = project(moon.alt_deg, moon.az_deg);
  const lit = moon.illumination ?? null;
  const label = lit === null ? "Moon" : `Moon ${Math.round(lit * 100)}%`;
  return svg("g", { class: "sky-moon" },
    svg("circle", { cx: x, cy: y, r: 6, class: "sky-moon-disc" }),
    svg("circle", { cx: x, cy: y, r: 6, class: "sky-moon-lit", "fill-opacity": lit === null ? 1 : 0.25 + 0.75 * lit }),
    svg("text", { x: x + 8, y: y + 2, class: "sky-label", text: label }),
    svg("title", { text: `${label}: alt ${moon.alt_deg.toFixed(0)}°, az ${moon.az_deg.toFixed(0)}°` }));
}

function telescopeMark(tel) {
  if (!tel || tel.alt_deg === null || tel.alt_deg === undefined) return null;
  const [x, y] = project(tel.alt_deg, tel.az_deg);
  const s = 7;
  return svg("g", { class: "sky-telescope" },
    svg("circle", { cx: x, cy: y, r: s - 2.5 }),
    svg("line", { x1: x - s, y1: y, x2: x - s + 3, y2: y }),
    svg("line", { x1: x + s - 3, y1: y, x2: x + s, y2: y }),
    svg("line", { x1: x, y1: y - s, x2: x, y2: y - s + 3 }),
    svg("line", { x1: x, y1: y + s - 3, x2: x, y2: y + s }),
    svg("title", { text: `Telescope: alt ${tel.alt_deg.toFixed(1)}°, az ${tel.az_deg.toFixed(1)}°` }));
}

function domeMark(dome) {
  if (!dome || dome.azimuth_deg === null || dome.azimuth_deg === undefined) return null;
  const az = dome.azimuth_deg;
  const [x0, y0] = project(0, az - 6);
  const [x1, y1] = project(0, az + 6);
  const [xa, ya] = project(0, az).map((v) => v * 1.035);
  const open = dome.shutter === "open";
  return svg("g", { class: `sky-dome ${open ? "open" : "closed"}` },
    svg("path", { d: `M${x0},${y0}A${R},${R} 0 0,0 ${x1},${y1}` }),
    svg("circle", { cx: xa, cy: ya, r: 1.6 }),
    svg("title", { text: `Dome slit: az ${az.toFixed(0)}°, shutter ${dome.shutter ?? "?"}` }));
}

/**
 * Draw the chart into `container` (replacing what was there).
 * sky: GET /api/sky; live: {mount, dome, moon, observation} from the latest status
 * (fresher). Planned fields not yet done, and the current one, are labelled.
 */
export function drawSky(container, sky, live = {}) {
  const telescope = live.mount && live.mount.alt_deg !== null && live.mount.alt_deg !== undefined
    ? live.mount : sky?.telescope;
  const moon = live.moon ?? sky?.moon;
  const chart = svg("svg", {
    viewBox: "-118 -118 236 236", class: "sky-chart", role: "img",
    "aria-label": "Sky chart: altitude and azimuth of the plan's fields, the Moon and the telescope",
  },
  svg("circle", { r: R, class: "sky-bg" }),
  horizon(sky?.horizon),
  grid(),
  fieldMarks(sky?.fields, live.observation?.field),
  moonMark(moon),
  domeMark(live.dome),
  telescopeMark(telescope),
  svg("circle", { r: R, class: "sky-rim" }));
  container.replaceChildren(chart);
}
