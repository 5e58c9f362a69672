// Small formatting helpers: times are shown in UTC, as the unit records them.

export function parseTime(value) {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

export function hhmm(value) {
  const t = typeof value === "number" ? value : parseTime(value);
  if (t === null) return "–";
  return new Date(t).toISOString().slice(11, 16);
}

export function hhmmss(value) {
  const t = typeof value === "number" ? value : parseTime(value);
  if (t === null) return "–";
  return new Date(t).toISOString().slice(11, 19);
}

/** "2026-12-15 21:03 UTC" */
export function dateTime(value) {
  const t = typeof value === "number" ? value : parseTime(value);
  if (t === null) return "–";
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 90) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")}`;
}

export function num(value, digits = 1, unit = "") {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return "–";
  const text = Number(value).toFixed(digits);
  return unit ? `${text} ${unit}` : text;
}

/** Degrees as sexagesimal: hours for RA, degrees for Dec. */
export function sexagesimal(deg, hours = false) {
  if (deg === null || deg === undefined || !Number.isFinite(deg)) return "–";
  const sign = deg < 0 ? "−" : hours ? "" : "+";
  let v = Math.abs(hours ? deg / 15 : deg);
  const a = Math.floor(v); v = (v - a) * 60;
  const b = Math.floor(v); const c = Math.round((v - b) * 60);
  const [bb, cc] = c === 60 ? [b + 1, 0] : [b, c];
  const pad = (x) => String(x).padStart(2, "0");
  return hours ? `${sign}${pad(a)}h${pad(bb)}m${pad(cc)}s` : `${sign}${pad(a)}°${pad(bb)}′${pad(cc)}″`;
}
