// Rendering the status snapshot (GET /api/status) into the page's panels.

import { stateClass } from "./charts.js";
import { el } from "./dom.js";
import { dateTime, duration, hhmm, num, parseTime, sexagesimal } from "./format.js";

const $ = (id) => document.getElementById(id);

export function renderHeader(status) {
  $("unit-name").textContent = status.unit ?? "nocturna";
  $("unit-time").textContent = dateTime(status.time);
  $("time-base").textContent = status.time_base === "virtual" ? "(simulated)" : "";
  document.title = `${status.state ?? "?"} · ${status.unit ?? "nocturna"}`;
}

export function renderState(status) {
  const badge = $("state");
  badge.textContent = status.state ?? "–";
  badge.className = `state-badge ${stateClass(status.state)}`;
  badge.dataset.state = status.state ?? "";
  badge.dataset.since = status.since ?? "";
  const hold = $("hold-badge");
  hold.textContent = status.hold ? `held by an operator: ${status.hold}` :
    status.paused && status.state !== "paused" ? "pausing" : "";
  $("reason").textContent = status.reason ?? "";
  const since = parseTime(status.since);
  const now = parseTime(status.time);
  $("since").textContent = since === null ? "" :
    `since ${hhmm(since)} UTC${now !== null ? ` (${duration((now - since) / 1000)})` : ""}`;
  const safety = $("safety-badge");
  const safe = status.safety?.safe;
  safety.textContent = safe === true ? "safe" : safe === false ? "unsafe" : "";
  safety.className = `safety-badge ${safe === true ? "ok" : safe === false ? "bad" : ""}`;
}

function bar(done, of, label) {
  const fraction = of > 0 ? Math.min(Math.max(done / of, 0), 1) : 0;
  return el("div", { class: "bar-row" },
    el("div", { class: "bar-label" }, label),
    el("div", { class: "bar", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": of, "aria-valuenow": done },
      el("div", { class: "bar-fill", style: `width:${(fraction * 100).toFixed(1)}%` })));
}

export function renderProgress(status) {
  const obs = status.observation;
  const box = $("observation");
  if (obs && obs.field) {
    const parts = [obs.image_type && obs.image_type !== "object" ? obs.image_type : null,
      obs.filter ? `filter ${obs.filter}` : null,
      obs.exposure_s !== null && obs.exposure_s !== undefined ? `${num(obs.exposure_s, obs.exposure_s < 10 ? 1 : 0)} s` : null]
      .filter(Boolean).join(" · ");
    box.replaceChildren(
      el("div", { class: "obs-field" }, obs.field),
      el("div", { class: "muted" }, parts),
      !obs.of ? null : obs.frame ? bar(obs.frame - 1, obs.of, `frame ${obs.frame} of ${obs.of}`)
        : el("div", { class: "bar-label" }, `a set of ${obs.of} frames`));
  } else {
    box.replaceChildren(el("div", { class: "muted" }, "No observation in progress."));
  }
  // a sequence's progress (flats, calibrations); a science set shows its frame above
  renderSequence(obs && obs.field ? null : status.progress);
  const next = status.next;
  $("next").textContent = next && next.field
    ? `Next: ${next.field}${next.start ? ` at ${hhmm(next.start)} UTC` : ""}` : "";
}

/** A sequence's progress: {what, done, of}. */
function renderSequence(progress) {
  const box = $("progress");
  if (progress && progress.of) {
    box.replaceChildren(bar(progress.done ?? 0, progress.of, `${progress.what ?? "progress"}: ${progress.done ?? 0} of ${progress.of}`));
  } else {
    box.replaceChildren();
  }
}

export function renderSafety(status) {
  const list = $("safety");
  const checks = status.safety?.checks ?? {};
  const items = Object.entries(checks).map(([name, check]) => {
    const ok = check?.ok;
    const reasons = (check?.reasons ?? []).join("; ");
    return el("li", { class: ok === false ? "bad" : ok === true ? "ok" : "" },
      el("span", { class: "check-mark", "aria-hidden": "true" }, ok === false ? "✗" : ok === true ? "✓" : "·"),
      el("span", { class: "check-name" }, name),
      reasons ? el("span", { class: "check-reason" }, reasons) : null);
  });
  list.replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "No checks reported.")]));
}

function yesNo(value, yes, no) {
  return value === true ? yes : value === false ? no : null;
}

export function renderDevices(status) {
  const rows = [];
  const add = (name, ...parts) => {
    const text = parts.filter((p) => p !== null && p !== undefined && p !== "").join(" · ");
    if (text) rows.push(el("dt", {}, name), el("dd", {}, text));
  };
  const m = status.mount;
  if (m) {
    add("Mount", m.ra_deg !== null && m.ra_deg !== undefined ? `${sexagesimal(m.ra_deg, true)} ${sexagesimal(m.dec_deg)}` : null,
      m.alt_deg !== null && m.alt_deg !== undefined ? `alt ${num(m.alt_deg, 1)}° az ${num(m.az_deg, 1)}°` : null,
      m.at_park ? "parked" : m.slewing ? "slewing" : yesNo(m.tracking, "tracking", "not tracking"),
      m.pier_side ? `pier ${m.pier_side}` : null);
  }
  const d = status.dome;
  if (d) add("Dome", d.shutter ? `shutter ${d.shutter}` : null,
    d.azimuth_deg !== null && d.azimuth_deg !== undefined ? `az ${num(d.azimuth_deg, 0)}°` : null, d.at_park ? "parked" : null);
  const c = status.camera;
  if (c) add("Camera", c.name, c.state, c.ccd_temp_c !== null && c.ccd_temp_c !== undefined ? `${num(c.ccd_temp_c, 1)} °C` : null,
    yesNo(c.cooler, "cooler on", "cooler off"));
  const f = status.focuser;
  if (f) add("Focuser", f.position !== null && f.position !== undefined ? `position ${f.position}` : null,
    f.temperature_c !== null && f.temperature_c !== undefined ? `${num(f.temperature_c, 1)} °C` : null);
  if (status.filter_wheel) add("Filter", status.filter_wheel.filter ?? "–");
  if (status.sun_alt_deg !== null && status.sun_alt_deg !== undefined) add("Sun", `alt ${num(status.sun_alt_deg, 1)}°`);
  const moon = status.moon;
  if (moon) add("Moon", moon.alt_deg !== null && moon.alt_deg !== undefined ? `alt ${num(moon.alt_deg, 0)}°` : null,
    moon.illumination !== null && moon.illumination !== undefined ? `${Math.round(moon.illumination * 100)} % lit` : null);
  $("devices").replaceChildren(...rows);
}

export function renderComponents(status) {
  const body = $("components").tBodies[0];
  const rows = (status.components ?? []).map((c) => {
    // how late is too late is the unit's call (its components check, above)
    const age = c.heartbeat_age_s;
    const beat = age === null || age === undefined ? "–" : `${num(age, age < 10 ? 1 : 0)} s ago`;
    return el("tr", { class: c.state === "FAULT" ? "fault" : "" },
      el("td", {}, c.name, c.kind ? el("div", { class: "comp-kind" }, c.kind) : null),
      el("td", {}, el("span", { class: `pill comp-${String(c.state).toLowerCase()}` }, c.state ?? "?"),
        c.fault_reason ? el("div", { class: "fault-reason" }, c.fault_reason) : null),
      el("td", { title: c.last_heartbeat ? dateTime(c.last_heartbeat) : "" }, beat));
  });
  body.replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 3, class: "muted" }, "No components reported."))]));
}

export function renderWeatherNow(status) {
  const w = status.weather;
  $("weather-now").textContent = w
    ? [w.temperature_c !== null && w.temperature_c !== undefined ? `${num(w.temperature_c, 1)} °C` : null,
      w.wind_m_s !== null && w.wind_m_s !== undefined ? `${num(w.wind_m_s, 1)} m/s` : null,
      w.safe === false ? "unsafe" : null].filter(Boolean).join(" · ")
    : "";
}

export function renderStatus(status) {
  renderHeader(status);
  renderState(status);
  renderProgress(status);
  renderSafety(status);
  renderDevices(status);
  renderComponents(status);
  renderWeatherNow(status);
}
