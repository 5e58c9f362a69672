// The unit's REST API: the token, JSON reads, commands, and the live event stream
// (SSE over fetch, falling back to polling the status).

import { readEventStream } from "./sse.js";

const TOKEN_KEY = "nocturna.token";

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setToken(token) {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch { /* private mode: the token lasts for this page only */ }
  memoryToken = token;
}

let memoryToken = getToken();

function headers(extra = {}) {
  const h = { Accept: "application/json", ...extra };
  if (memoryToken) h.Authorization = `Bearer ${memoryToken}`;
  return h;
}

/** An answer other than 2xx: status, the server's detail and (for 409) its reason. */
export class ApiError extends Error {
  constructor(status, detail, reason = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.reason = reason;
  }
}

/** One of FastAPI's validation errors as "field: message". */
function validationMessage(item) {
  if (!item || typeof item !== "object") return String(item);
  const where = (item.loc || []).filter((part) => part !== "body").join(".");
  return where ? `${where}: ${item.msg}` : String(item.msg);
}

async function errorFrom(response) {
  let detail = response.statusText || `HTTP ${response.status}`;
  let reason = null;
  try {
    const body = await response.json();
    if (typeof body.detail === "string") detail = body.detail;
    else if (Array.isArray(body.detail)) detail = body.detail.map(validationMessage).join("; ");
    else if (body.detail) detail = JSON.stringify(body.detail);
    reason = body.reason ?? null;
  } catch { /* not JSON */ }
  return new ApiError(response.status, detail, reason);
}

/** The URL of an API path, relative to the page (so the page also works under a prefix). */
export function apiUrl(path, params = {}) {
  const url = new URL(`api/${path}`, document.baseURI);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url;
}

export async function getJSON(path, params) {
  const response = await fetch(apiUrl(path, params), { headers: headers(), cache: "no-store" });
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

/** A binary resource (a preview image) as a Blob, with the token. */
export async function getBlob(path, params) {
  const response = await fetch(apiUrl(path, params), { headers: headers({ Accept: "*/*" }) });
  if (!response.ok) throw await errorFrom(response);
  return response.blob();
}

/** An operator command: resolves to {id, command, accepted, detail}; throws ApiError. */
export async function command(path, body = undefined) {
  const init = { method: "POST", headers: headers({ "Content-Type": "application/json" }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await fetch(apiUrl(path), init);
  if (!response.ok) throw await errorFrom(response);
  return response.json();
}

/**
 * Keeps the page live: reads /api/events; while the stream cannot be had, polls.
 * Calls onEvent({topic, source, time, data}), onPoll() when polling is due, and
 * onMode("live" | "polling" | "auth") when the way of keeping up changes.
 */
export class LiveFeed {
  constructor({ onEvent, onPoll, onMode, pollMs = 2000, retryMs = 5000 }) {
    Object.assign(this, { onEvent, onPoll, onMode, pollMs, retryMs });
    this.controller = null;
    this.pollTimer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
    this.stopPolling();
  }

  restart() {
    this.stop();
    this.start();
  }

  async connect() {
    if (this.stopped) return;
    const controller = new AbortController();
    this.controller = controller;
    try {
      const response = await fetch(apiUrl("events"), {
        headers: headers({ Accept: "text/event-stream" }), signal: controller.signal,
        cache: "no-store",
      });
      if (response.status === 401 || response.status === 403) {
        this.onMode("auth");
        return;
      }
      if (!response.ok || !response.body) throw new Error(`events: HTTP ${response.status}`);
      this.stopPolling();
      this.onMode("live");
      await readEventStream(response, (type, data) => this.dispatch(type, data));
    } catch (error) {
      if (controller.signal.aborted) return;
      console.warn("live events unavailable, polling:", error);
    }
    if (this.stopped || controller.signal.aborted) return;
    this.startPolling();
    setTimeout(() => this.connect(), this.retryMs);
  }

  dispatch(type, data) {
    let event;
    try { event = JSON.parse(data); } catch { return; }
    if (!event || typeof event !== "object") return;
    if (!event.topic) event.topic = type;
    this.onEvent(event);
  }

  startPolling() {
    if (this.pollTimer) return;
    this.onMode("polling");
    this.onPoll();
    this.pollTimer = setInterval(() => this.onPoll(), this.pollMs);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }
}
