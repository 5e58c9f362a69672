// The dashboard: loads what the unit knows, then keeps it live from the event
// stream (or by polling), and draws it.

import { ApiError, LiveFeed, getBlob, getJSON, getToken, setToken } from "./api.js";
import { drawTimeline, drawWeather, parkPeriods, stateClass } from "./charts.js";
import { renderCommandAccess, setupCommands } from "./commands.js";
import { el } from "./dom.js";
import { duration, hhmm, hhmmss, num, parseTime } from "./format.js";
import { renderProgress, renderStatus } from "./panels.js";
import { drawSky } from "./sky.js";

const $ = (id) => document.getElementById(id);

const NIGHT_HOURS = 18;        // "tonight": this far back from the unit's time
const LOG_LINES = 200;
const TRANSITIONS_SHOWN = 150;
const WEATHER_STEP_MS = 60e3;  // live weather points, at most one per unit minute
const SKY_REFRESH_MS = 15e3;   // wall time between sky reloads (fields move slowly)
const SLOW_REFRESH_MS = 30e3;  // wall time between reloads of the night's series

const page = {
  who: null,           // {name, role}
  status: null,
  transitions: [],
  weather: [],
  sky: null,
  log: [],
  mode: "connecting",
  frameShown: null,    // the image_id on screen
  frameWanted: null,   // the newest frame announced
  frameLoading: false,
  statusTimer: null,
  statusBusy: false,
  lastSky: 0,
  lastSlow: 0,
};

// ------------------------------------------------------------ connection state
function setMode(mode) {
  page.mode = mode;
  const text = { live: "live", polling: "polling", auth: "token needed", offline: "no connection" }[mode] ?? mode;
  $("conn-text").textContent = text;
  $("conn-dot").className = `dot ${mode}`;
  document.body.dataset.conn = mode;
  if (mode === "auth") askToken("This unit needs a token to be watched.");
}

function renderWho() {
  const button = $("who");
  button.textContent = page.who ? `${page.who.name} · ${page.who.role}` : "sign in";
  renderCommandAccess(page.who);
}

// ------------------------------------------------------------ token
function askToken(why) {
  const dialog = $("token-dialog");
  if (dialog.open) return;
  $("token-why").textContent = why ?? "Paste a token to view or to send commands.";
  $("token-input").value = "";
  dialog.showModal();
}

function setupToken() {
  $("who").addEventListener("click", () => askToken());
  $("token-dialog").addEventListener("close", async () => {
    const action = $("token-dialog").returnValue;
    if (action === "save") setToken($("token-input").value.trim());
    else if (action === "forget") setToken("");
    else return;
    await start();
  });
}

/** Who the token is: {name, role}; null when the unit refuses to say (no/wrong token). */
async function whoAmI() {
  try {
    return await getJSON("whoami");
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    if (getToken()) return null;
    // no token: the unit may still allow open viewing
    try {
      await getJSON("status");
      return { name: "anonymous", role: "viewer" };
    } catch { return null; }
  }
}

// ------------------------------------------------------------ status
function scheduleStatus(delay = 0) {
  if (page.statusTimer !== null) return;
  page.statusTimer = setTimeout(refreshStatus, delay);
}

async function refreshStatus() {
  page.statusTimer = null;
  if (page.statusBusy) { scheduleStatus(100); return; }
  page.statusBusy = true;
  try {
    applyStatus(await getJSON("status"));
  } catch (error) {
    noteError("status", error);
  } finally {
    page.statusBusy = false;
  }
}

function applyStatus(status) {
  const previous = page.status;
  page.status = status;
  renderStatus(status);
  addWeatherPoint(status);
  drawSky($("sky"), page.sky, status);
  $("log-clock").textContent = status.time_base === "virtual" ? "(this computer's clock)" : "";
  drawTimeline($("timeline"), page.transitions, parseTime(status.time));
  const wall = Date.now();
  if (wall - page.lastSky > SKY_REFRESH_MS) loadSky();
  if (wall - page.lastSlow > SLOW_REFRESH_MS) loadSeries();
  // live, unit.state events bring the transitions; polling, they are reloaded on any
  // new transition (a new "since": the state may have come back between two polls)
  const changed = previous && (previous.state !== status.state || previous.since !== status.since);
  if (changed && page.mode !== "live") loadTransitions();
}

function addWeatherPoint(status) {
  const w = status.weather;
  const t = parseTime(status.time);
  if (!w || t === null) return;
  const last = page.weather.at(-1);
  if (last && t - parseTime(last.time) < WEATHER_STEP_MS) return;
  page.weather.push({ time: status.time, data: w });
  drawWeather($("weather"), page.weather);
}

// ------------------------------------------------------------ the night's series
function since() {
  const now = parseTime(page.status?.time) ?? Date.now();
  return new Date(now - NIGHT_HOURS * 3600e3).toISOString().replace(/\.\d+Z$/, "Z");
}

function rows(answer) {
  if (Array.isArray(answer)) return answer;
  for (const key of ["items", "rows", "transitions", "telemetry", "lines", "frames"]) {
    if (Array.isArray(answer?.[key])) return answer[key];
  }
  return [];
}

async function loadTransitions() {
  try {
    page.transitions = rows(await getJSON("transitions", { since: since(), limit: 1000 }))
      .sort((a, b) => parseTime(a.time) - parseTime(b.time));
    renderTransitions();
  } catch (error) { noteError("transitions", error); }
}

async function loadWeather() {
  try {
    page.weather = rows(await getJSON("telemetry", { kind: "weather", since: since(), limit: 5000 }))
      .sort((a, b) => parseTime(a.time) - parseTime(b.time));
    drawWeather($("weather"), page.weather);
  } catch (error) { noteError("weather", error); }
}

async function loadSky() {
  page.lastSky = Date.now();
  try {
    page.sky = await getJSON("sky");
    drawSky($("sky"), page.sky, page.status ?? {});
  } catch (error) { noteError("sky", error); }
}

async function loadLog() {
  try {
    page.log = rows(await getJSON("log", { lines: LOG_LINES })).map(logEntry);
    renderLog();
  } catch (error) { noteError("log", error); }
}

async function loadLatestFrame() {
  try {
    showFrame(await getJSON("frames/latest"));
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) noteError("frames", error);
  }
}

async function loadSeries() {
  page.lastSlow = Date.now();
  await Promise.all([loadTransitions(), loadWeather()]);
  if (page.status) drawTimeline($("timeline"), page.transitions, parseTime(page.status.time));
}

// ------------------------------------------------------------ transitions
function isPark(state) {
  return state === "parking" || state === "parked";
}

function renderParks() {
  const now = parseTime(page.status?.time);
  const parks = parkPeriods(page.transitions).reverse();
  const items = parks.slice(0, 4).map((park) => {
    const end = park.end ?? now;
    const span = park.end === null ? `since ${hhmm(park.start)}` : `${hhmm(park.start)}–${hhmm(park.end)}`;
    return el("li", {},
      el("span", { class: "park-when" }, span),
      el("span", { class: "muted" }, end !== null ? ` (${duration((end - park.start) / 1000)})` : ""),
      el("span", { class: "park-reason" }, park.reason));
  });
  if (parks.length > 4) items.push(el("li", { class: "muted" }, `and ${parks.length - 4} earlier`));
  $("parks").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "None so far.")]));
}

function renderTransitions() {
  const list = $("transitions");
  const shown = page.transitions.slice(-TRANSITIONS_SHOWN).reverse();
  list.replaceChildren(...shown.map((tr) => el("li", { class: isPark(tr.to_state) ? "park" : "" },
    el("time", { datetime: tr.time }, hhmm(tr.time)),
    el("span", { class: `state-chip ${stateClass(tr.to_state)}` }, tr.to_state),
    el("span", { class: "tr-reason" }, tr.reason ?? ""))));
  if (page.status) drawTimeline($("timeline"), page.transitions, parseTime(page.status.time));
  renderParks();
}

// ------------------------------------------------------------ frames
function showFrame(info) {
  if (!info?.image_id) return;
  page.frameWanted = info;
  if (!page.frameLoading) loadFrame();
}

async function loadFrame() {
  const info = page.frameWanted;
  if (!info || info.image_id === page.frameShown) return;
  page.frameLoading = true;
  try {
    const blob = await getBlob(`frames/${encodeURIComponent(info.image_id)}/preview.jpg`, { size: 900 });
    const img = $("frame-img");
    const old = img.src;
    img.src = URL.createObjectURL(blob);
    if (old.startsWith("blob:")) URL.revokeObjectURL(old);
    img.hidden = false;
    img.dataset.imageId = info.image_id;
    $("frame-empty").hidden = true;
    page.frameShown = info.image_id;
    $("frame-caption").replaceChildren(frameCaption(info));
  } catch (error) {
    noteError("preview", error);
  } finally {
    page.frameLoading = false;
  }
  if (page.frameWanted && page.frameWanted.image_id !== page.frameShown && page.frameWanted !== info) loadFrame();
}

function frameCaption(info) {
  const when = info.start_time ?? info.time;
  const parts = [
    info.field,
    info.image_type ? String(info.image_type).toLowerCase() : null,
    info.filter ? `filter ${info.filter}` : null,
    info.exposure_s !== undefined && info.exposure_s !== null ? `${num(info.exposure_s, info.exposure_s < 10 ? 2 : 0)} s` : null,
    info.frame && info.of ? `frame ${info.frame} of ${info.of}` : null,
    when ? `${hhmmss(when)} UTC` : null,
  ].filter(Boolean);
  return el("span", {}, el("strong", {}, info.image_id), " ", parts.join(" · "));
}

// ------------------------------------------------------------ log
/** A log line (a JSON record or plain text) as {time, level, message}. */
function logEntry(line) {
  let record = line;
  if (typeof line === "string") {
    try { record = JSON.parse(line); } catch { return { time: null, level: "", message: line }; }
  }
  if (!record || typeof record !== "object") return { time: null, level: "", message: String(line) };
  return {
    time: record.time ?? null, // the log's own (wall) time, as in the file
    level: String(record.level ?? record.levelname ?? "").toLowerCase(),
    message: record.message ?? record.msg ?? JSON.stringify(record),
  };
}

function logItem(entry) {
  return el("li", { class: `log-${entry.level}` },
    entry.time ? el("time", {}, hhmmss(entry.time)) : null,
    entry.level ? el("span", { class: "log-level" }, entry.level) : null,
    el("span", { class: "log-message" }, entry.message));
}

function renderLog() {
  const list = $("log");
  list.replaceChildren(...page.log.map(logItem));
  list.scrollTop = list.scrollHeight;
}

function appendLog(entry) {
  const list = $("log");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  page.log.push(entry);
  list.append(logItem(entry));
  while (page.log.length > LOG_LINES) { page.log.shift(); list.firstElementChild?.remove(); }
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// ------------------------------------------------------------ events
function onEvent(event) {
  const data = event.data ?? {};
  switch (event.topic) {
    case "unit.state":
      page.transitions.push({ time: event.time, from_state: data.from_state, to_state: data.to_state, reason: data.reason });
      renderTransitions();
      scheduleStatus();
      break;
    case "unit.frame":
      showFrame(data);
      break;
    case "unit.progress":
      if (page.status) renderProgress({ ...page.status, progress: data });
      break;
    case "unit.command":
      appendLog({ time: event.time, level: data.accepted ? "info" : "warning",
        message: `command ${data.command} by ${data.operator}: ${data.accepted ? "accepted" : "refused"}${data.detail ? `: ${data.detail}` : ""}` });
      scheduleStatus();
      break;
    case "log":
      appendLog(logEntry({ time: event.time, ...data }));
      break;
    case "unit.status":
      scheduleStatus(250);
      break;
    default:
      if (event.topic?.startsWith("unit.") || event.topic?.startsWith("component.")) scheduleStatus(250);
  }
}

function noteError(what, error) {
  if (error instanceof ApiError && error.status === 401) { setMode("auth"); return; }
  console.warn(`${what}:`, error);
}

// ------------------------------------------------------------ start
let feed = null;

async function start() {
  feed?.stop();
  try {
    page.who = await whoAmI();
  } catch (error) {
    setMode("offline");
    console.warn("whoami:", error);
    setTimeout(start, 5000);
    return;
  }
  renderWho();
  if (!page.who) {
    setMode("auth");
    return;
  }
  await refreshStatus();
  await Promise.all([loadSeries(), loadSky(), loadLog(), loadLatestFrame()]);
  feed = new LiveFeed({
    onEvent,
    onMode: setMode,
    onPoll: () => { scheduleStatus(); loadLatestFrame(); },
  });
  feed.start();
}

/** Charts are drawn at their container's width: redraw them when it changes. */
function redrawOnResize() {
  let timer = null;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      drawWeather($("weather"), page.weather);
      if (page.status) drawTimeline($("timeline"), page.transitions, parseTime(page.status.time));
    }, 150);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  redrawOnResize();
  setupToken();
  setupCommands({ getWho: () => page.who, onSent: () => scheduleStatus() });
  start();
});
