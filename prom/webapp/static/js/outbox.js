// The outbox: submitted questionnaires waiting for the server's acknowledgement.
//
// `submit` gives the response its id (a random UUID) and writes it to storage before any
// network attempt, then tries to send. Sending happens on start-up, on the browser's `online`
// event, after each submission, and with exponential backoff while something is waiting.
// An entry leaves the outbox only when the server acknowledges it (201 stored, 200 already
// stored: a retry of a response whose acknowledgement was lost), or when the server refuses
// it for good (409 the id holds different answers, 422 invalid, 403/404): it then moves to
// the attention list, which the app shows, instead of being dropped. Anything else (offline,
// 5xx, 429, 503) keeps it for the next attempt, with the same id, so the server stores it
// once however many times it is sent.

import { ApiError, NetworkError, request } from "./api.js";
import { attention, outbox, session } from "./store.js";

// The API takes up to 500 a batch, within its 1 MiB body limit: 20 leaves room for long texts.
const BATCH = 20;
const FIRST_DELAY = 2000;    // ms before the first retry
const MAX_DELAY = 5 * 60 * 1000;

const listeners = new Set();
let running = null;
let again = false;
let timer = null;
let failures = 0;

export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  // Outside a secure context (plain http on a LAN address) randomUUID is missing.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function owner() {
  const current = session.get();
  return current ? current.username : null;
}

// This participant's entries (a shared device may hold another participant's).
export function waiting() {
  return outbox.all().filter((entry) => entry.owner === owner());
}

export function needingAttention() {
  return attention.all().filter((entry) => entry.owner === owner());
}

export function onChange(listener) {
  listeners.add(listener);
}

export function notify() {
  for (const listener of listeners) listener();
}

// Store the response, then try to send it. Resolves with {outcome: "sent", "queued" or
// "attention", problem: the server's reason for "attention"}.
export async function submit(body) {
  const entry = { id: uuid(), owner: owner(), queuedAt: new Date().toISOString(), attempts: 0,
                  body: null };
  entry.body = { id: entry.id, ...body };
  outbox.add(entry);
  notify();
  await flush();
  if (outbox.all().some((e) => e.id === entry.id)) return { outcome: "queued" };
  const refused = attention.all().find((e) => e.id === entry.id);
  return refused ? { outcome: "attention", problem: refused.problem } : { outcome: "sent" };
}

// Send what is waiting. Calls during a flush are folded into one more pass after it.
export function flush() {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      await sendWaiting();
    } while (again);
  })().finally(() => {
    running = null;
    notify();
  });
  return running;
}

async function sendWaiting() {
  clearTimeout(timer);
  timer = null;
  const entries = waiting();
  if (!entries.length || !owner()) return;
  try {
    for (let start = 0; start < entries.length; start += BATCH) {
      const chunk = entries.slice(start, start + BATCH);
      for (const entry of chunk) outbox.update(entry.id, { attempts: entry.attempts + 1 });
      const { data } = await request("POST", "/responses/batch", {
        body: { responses: chunk.map((entry) => entry.body) },
      });
      data.results.forEach((result, index) => settle(chunk[index], result));
      notify();
    }
    failures = 0;
  } catch (error) {
    if (!(error instanceof NetworkError || error instanceof ApiError)) throw error;
    failures += 1;
  }
  if (waiting().length) schedule();
}

function settle(entry, result) {
  if (result.status === 200 || result.status === 201) {
    outbox.remove(entry.id);
  } else if ([400, 403, 404, 409, 422].includes(result.status)) {
    attention.add({ ...entry, problem: { status: result.status, detail: result.detail || "",
                                         errors: result.errors || {} } });
    outbox.remove(entry.id);
  }
  // Anything else (a 5xx for this entry) stays for the next attempt.
}

function schedule() {
  if (timer) return;
  const delay = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** Math.min(failures, 12));
  timer = setTimeout(() => {
    timer = null;
    flush();
  }, delay * (0.75 + Math.random() / 2));
}

export function dismiss(id) {
  attention.remove(id);
  notify();
}

export function start() {
  window.addEventListener("online", () => {
    failures = 0;
    flush();
  });
  flush();
}
