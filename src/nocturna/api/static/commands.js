// The operator's commands: buttons (with a confirmation for park and end night),
// the target-of-opportunity and calibration forms, and what the unit answered.

import { ApiError, command } from "./api.js";

const $ = (id) => document.getElementById(id);

/** Ask in a modal dialog; resolves true when confirmed. */
export function confirmDialog(text, title = "Are you sure?") {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    $("confirm-ok").focus();
  });
}

/** What a refusal means, in words (401/403/409/422 and network failures). */
export function describeRefusal(name, error, who) {
  if (!(error instanceof ApiError)) return `${name}: no answer from the unit (${error.message}).`;
  switch (error.status) {
    case 401:
      return `${name} refused: not signed in or the token is wrong (401). Sign in with an operator token.`;
    case 403:
      return `${name} refused: ${who?.name ? `'${who.name}' is` : "this token is"} a ${who?.role ?? "viewer"} and commands need an operator token (403).`;
    case 409:
      return `${name} refused${error.reason ? ` (${error.reason})` : ""}: ${error.detail}`;
    case 422:
      return `${name}: invalid request: ${error.detail}`;
    default:
      return `${name} failed (${error.status}): ${error.detail}`;
  }
}

function showResult(text, kind) {
  const box = $("command-result");
  box.textContent = text;
  box.className = `command-result ${kind}`;
  box.dataset.kind = kind;
}

/** The filled fields of a form as a request body: numbers where the input is a number. */
export function formBody(form) {
  const body = {};
  for (const input of form.elements) {
    if (!input.name || input.value === "") continue;
    body[input.name] = input.type === "number" ? Number(input.value) : input.value;
  }
  return body;
}

/** Wire the panel: getWho() gives the current {name, role}; onSent() after any answer. */
export function setupCommands({ getWho, onSent }) {
  const send = async (name, path, body) => {
    showResult(`${name}: sending…`, "pending");
    try {
      const result = await command(path, body);
      showResult(`${name} accepted${result.id !== undefined ? ` (#${result.id})` : ""}: ${result.detail ?? ""}`, "ok");
    } catch (error) {
      showResult(describeRefusal(name, error, getWho()), "refused");
    }
    onSent?.();
  };

  for (const button of document.querySelectorAll("button[data-command]")) {
    button.addEventListener("click", async () => {
      const name = button.textContent.trim();
      const question = button.dataset.confirm;
      if (question && !(await confirmDialog(question, `${name}?`))) {
        showResult(`${name}: cancelled.`, "pending");
        return;
      }
      button.disabled = true;
      try { await send(name, button.dataset.command); } finally { button.disabled = false; }
    });
  }

  $("observe-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = formBody(event.target);
    send(`Observe ${body.name}`, "observe", body);
  });
  $("calibrate-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const body = formBody(event.target);
    send(`Calibrations (${body.kind})`, "calibrations", body);
  });
}

/** The hint above the buttons: who may send commands. */
export function renderCommandAccess(who) {
  const hint = $("controls-hint");
  const panel = $("controls");
  const operator = who?.role === "operator";
  panel.classList.toggle("viewer", !operator);
  hint.replaceChildren();
  if (operator) {
    hint.textContent = `Signed in as ${who.name} (operator).`;
    return;
  }
  const link = document.createElement("button");
  link.type = "button";
  link.className = "linklike";
  link.textContent = "sign in with an operator token";
  link.addEventListener("click", () => document.getElementById("who").click());
  hint.append(who?.name ? `Viewing as ${who.name} (${who.role}). Commands need an operator token: ` :
    "Viewing without a token. Commands need an operator token: ", link, ".");
}
