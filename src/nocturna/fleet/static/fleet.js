// The fleet page: polls the central database's view (api/fleet) and shows every unit;
// a unit's row opens its own dashboard when its status gives the address, and its
// details here (recent transitions and frames) in any case (#unit=<id>).

import { el } from "../common/dom.js";
import { stateClass } from "../common/charts.js";
import { dateTime, duration, hhmmss, num } from "../common/format.js";

export const POLL_MS = 5000;
/** A unit not heard from for longer than this (seconds) is shown as stale. */
export const STALE_S = 120;

function url(path) {
  return new URL(path, document.baseURI);
}

async function getJSON(path) {
  const response = await fetch(url(path), { headers: { Accept: "application/json" }, cache: "no-store" });
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  if (!response.ok) throw new Error(body?.detail || `HTTP ${response.status}`);
  return body;
}

/** "online", "offline" or "unknown" (no birth or last will seen yet). */
export function onlineText(online) {
  if (online === true) return "online";
  if (online === false) return "offline";
  return "unknown";
}

/** The weather verdict: [text, class, reasons]. */
export function weatherVerdict(unit) {
  if (unit.weather_safe === true) return ["safe", "ok", ""];
  if (unit.weather_safe === false) return ["unsafe", "bad", (unit.weather_reasons || []).join("; ")];
  return ["–", "", ""];
}

/** "5 s ago", "3 min ago" ... */
export function ago(seconds) {
  return seconds === null || seconds === undefined ? "–" : `${duration(seconds)} ago`;
}

function unitRow(unit) {
  const [verdict, verdictClass, reasons] = weatherVerdict(unit);
  const stale = unit.heard_s_ago > STALE_S;
  const name = unit.dashboard
    ? el("a", { href: unit.dashboard, title: "the unit's own dashboard", rel: "noopener" }, unit.unit)
    : unit.unit;
  return el("tr", { class: unit.online === false ? "offline" : null, "data-unit": unit.unit },
    el("td", { class: "unit-name" }, name),
    el("td", {}, el("span", { class: "online" },
      el("span", { class: `dot ${unit.online === true ? "live" : unit.online === false ? "offline" : ""}`, "aria-hidden": "true" }),
      onlineText(unit.online))),
    el("td", { title: unit.reason || "" },
      unit.state ? el("span", { class: `state-chip ${stateClass(unit.state)}` }, unit.state) : "–"),
    el("td", { title: reasons }, el("span", { class: `verdict ${verdictClass}` }, verdict)),
    el("td", {}, unit.night ? `${unit.frames} (${unit.night})` : String(unit.frames)),
    el("td", { class: stale ? "stale" : null, title: `unit time ${dateTime(unit.last_time)}` },
      `${hhmmss(unit.last_received_at)} · ${ago(unit.heard_s_ago)}`),
    el("td", {}, el("a", { class: "detail-link", href: `#unit=${encodeURIComponent(unit.unit)}` }, "details")));
}

function ingestBlock(ingest) {
  const stale = ingest.updated_s_ago > STALE_S;
  const pair = (label, value) => [el("dt", {}, label), el("dd", {}, value)];
  return el("dl", { class: "ingest", "data-ingest": ingest.client_id },
    ...pair("ingest", ingest.client_id),
    ...pair("broker", ingest.connected ? "connected" : "disconnected"),
    ...pair("reported", el("span", { class: stale ? "stale" : null }, ago(ingest.updated_s_ago))),
    ...pair("messages", `${num(ingest.rate_per_s, 1)} /s`),
    ...pair("backlog", String(ingest.backlog)),
    ...pair("lag (event → received)", `${num(ingest.event_lag_p50_s, 2, "s")} median, ${num(ingest.event_lag_max_s, 2, "s")} max`),
    ...pair("write (received → committed)", `${num(ingest.write_lag_p99_s, 3, "s")} p99`));
}

function showFleet(fleet) {
  const body = document.querySelector("#units tbody");
  body.replaceChildren(...fleet.units.map(unitRow));
  document.getElementById("no-units").hidden = fleet.units.length > 0;
  const online = fleet.units.filter((u) => u.online === true).length;
  document.getElementById("counts").textContent =
    `${fleet.units.length} units, ${online} online · ${hhmmss(fleet.time)} UTC`;
  const ingests = document.getElementById("ingests");
  ingests.replaceChildren(...(fleet.ingests.length
    ? fleet.ingests.map(ingestBlock)
    : [el("p", { class: "empty" }, "no ingest has reported")]));
}

function showDetail(unit) {
  document.getElementById("detail-title").textContent = `Unit ${unit.unit}`;
  const [verdict] = weatherVerdict(unit);
  document.getElementById("detail-state").replaceChildren(
    unit.state ? el("span", { class: `state-chip ${stateClass(unit.state)}` }, unit.state) : "–",
    ` ${unit.reason || ""} · ${onlineText(unit.online)} · weather ${verdict} · `,
    unit.dashboard ? el("a", { href: unit.dashboard, class: "detail-link" }, "its dashboard") : "no dashboard address");
  document.getElementById("detail-transitions").replaceChildren(...unit.transitions.map((tr) =>
    el("li", { class: "fleet-tr" },
      el("time", {}, dateTime(tr.time)),
      el("span", { class: `state-chip ${stateClass(tr.to_state)}` },
        tr.component ? `${tr.component}: ${tr.to_state}` : tr.to_state),
      el("span", { class: "tr-reason" },
        tr.from_state ? `from ${tr.from_state}: ${tr.reason}` : tr.reason))));
  document.querySelector("#detail-frames tbody").replaceChildren(...unit.exposures.map((frame) =>
    el("tr", {},
      el("td", {}, dateTime(frame.time)), el("td", {}, frame.night ?? "–"),
      el("td", {}, frame.object ?? "–"), el("td", {}, frame.image_type ?? "–"),
      el("td", {}, num(frame.exposure_s, 1, "s")), el("td", {}, frame.camera ?? "–"),
      el("td", { class: "path" }, frame.path ?? "–"))));
}

function chosenUnit() {
  const match = /^#unit=(.+)$/.exec(location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function setConnection(ok, text) {
  document.getElementById("conn-dot").className = `dot ${ok ? "live" : "offline"}`;
  document.getElementById("conn-text").textContent = text;
}

async function refresh() {
  try {
    showFleet(await getJSON("api/fleet"));
    const chosen = chosenUnit();
    const detail = document.getElementById("detail");
    if (chosen) {
      showDetail(await getJSON(`api/units/${encodeURIComponent(chosen)}`));
      detail.hidden = false;
    } else {
      detail.hidden = true;
    }
    setConnection(true, `updated ${hhmmss(Date.now())}`);
  } catch (error) {
    setConnection(false, String(error.message || error));
  }
}

let timer = null;

function schedule() {
  clearTimeout(timer);
  refresh().finally(() => { timer = setTimeout(schedule, POLL_MS); });
}

if (typeof document !== "undefined" && document.getElementById("units")) {
  window.addEventListener("hashchange", schedule);
  document.getElementById("detail-close").addEventListener("click", (event) => {
    event.preventDefault();
    history.replaceState(null, "", location.pathname);
    schedule();
  });
  schedule();
}
