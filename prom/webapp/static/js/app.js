// The participant client: screens, routing (#/due, #/answer/<instrument>/<timepoint>, #/trend,
// #/done, #/activate, #/signin), and the online / waiting-to-send indicator.

import * as api from "./api.js";
import * as outbox from "./outbox.js";
import { h, renderQuestionnaire } from "./render.js";
import { cache, onExternalChange, preferences, session } from "./store.js";
import { renderTrend } from "./trend.js";

const PAIN = { instrument: "nrs_pain", scale: "pain_intensity" };
const main = document.getElementById("main");
const dateOnly = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "long" });

let flash = null;       // a message for the next screen: {text, kind}
let lastOutcome = null; // what happened to the last submission, for #/done
let screenToken = 0;    // a newer navigation makes older async renders give up

// --- small helpers -----------------------------------------------------------------------------

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// Replace the screen; its <h1> gets focus so that screen readers announce the new screen.
function screen(title, ...content) {
  const heading = h("h1", { tabindex: "-1", text: title });
  const notice = flash ? h("p", { class: `notice ${flash.kind || ""}`, role: flash.kind === "error" ? "alert" : "status", text: flash.text }) : null;
  flash = null;
  main.replaceChildren(...[heading, notice, ...content].filter(Boolean));
  document.title = `${title} — prom`;
  heading.focus();
  window.scrollTo(0, 0);
  return heading;
}

function button(text, onclick, kind = "primary", attributes = {}) {
  return h("button", { type: "button", class: `button ${kind}`, onclick, ...attributes, text });
}

function link(text, hash, kind = "secondary") {
  return h("a", { class: `button ${kind}`, href: hash, text });
}

function field(label, input, hint = null, errorId = null) {
  const hintElement = hint ? h("p", { class: "hint", id: `${input.id}-hint`, text: hint }) : null;
  const described = [hintElement && hintElement.id, errorId].filter(Boolean).join(" ");
  if (described) input.setAttribute("aria-describedby", described);
  return h("div", { class: "field" }, h("label", { for: input.id, text: label }), hintElement, input);
}

function errorText(error) {
  if (error instanceof api.NetworkError) return "You seem to be offline. Try again when you have a connection.";
  return error.message;
}

function localTimestamp(date = new Date()) {
  // ISO 8601 with the device's UTC offset: the server keeps the participant's local time.
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

async function titleOf(instrument) {
  try {
    return (await api.getDefinition(instrument, null, preferences.language())).title;
  } catch {
    return instrument;
  }
}

// --- the indicator -----------------------------------------------------------------------------

let lastWaiting = 0;

function updateStatus() {
  const online = navigator.onLine;
  const network = document.getElementById("network");
  network.dataset.state = online ? "online" : "offline";
  network.textContent = online ? "Online" : "Offline";
  const count = session.get() ? outbox.waiting().length : 0;
  const waiting = document.getElementById("waiting");
  waiting.hidden = count === 0;
  waiting.textContent = count === 1 ? "1 answer waiting to send" : `${count} answers waiting to send`;
  // Something was sent: the due list on screen is out of date.
  const sent = count < lastWaiting;
  lastWaiting = count;
  if (sent && location.hash === "#/due") route();
}

// --- screens -----------------------------------------------------------------------------------

function activateScreen() {
  const code = h("input", { id: "activation-code", name: "activation-code", autocomplete: "one-time-code",
                            autocapitalize: "characters", spellcheck: "false", required: true });
  const password = h("input", { id: "new-password", name: "new-password", type: "password",
                                autocomplete: "new-password", minlength: 10, required: true });
  const error = h("p", { id: "activate-error", class: "error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button primary", text: "Activate" });
  const form = h("form", { class: "card", novalidate: true },
    field("Activation code", code, "The code your clinic gave you.", "activate-error"),
    field("Choose a password", password, "At least 10 characters. You will need it to sign in again.",
          "activate-error"),
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    if (!code.value.trim() || password.value.length < 10) {
      error.textContent = !code.value.trim() ? "Enter your activation code."
        : "Choose a password of at least 10 characters.";
      (!code.value.trim() ? code : password).focus();
      return;
    }
    submit.disabled = true;
    try {
      const username = await api.activate(code.value.trim(), password.value);
      flash = { text: `You are signed in. Your sign-in name is ${username}: keep it with your password.` };
      outbox.flush();
      go("#/due");
    } catch (failure) {
      error.textContent = failure instanceof api.ApiError && failure.status === 401
        ? "That activation code was not accepted. Check it and try again, or ask your clinic for a new one."
        : errorText(failure);
      code.focus();
    } finally {
      submit.disabled = false;
    }
  });
  screen("Welcome", h("p", { text: "Activate your account with the code from your clinic." }), form,
         h("p", {}, "Already activated? ", h("a", { href: "#/signin", text: "Sign in" })));
}

function signInScreen() {
  const username = h("input", { id: "username", name: "username", autocomplete: "username",
                                autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { id: "password", name: "password", type: "password",
                                autocomplete: "current-password" });
  const error = h("p", { id: "signin-error", class: "error", role: "alert" });
  const form = h("form", { class: "card", novalidate: true },
    field("Sign-in name", username, null, "signin-error"),
    field("Password", password, null, "signin-error"), error,
    h("button", { type: "submit", class: "button primary", text: "Sign in" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api.signIn(username.value.trim(), password.value);
      outbox.flush();
      go("#/due");
    } catch (failure) {
      error.textContent = failure instanceof api.ApiError && failure.status === 401
        ? "That sign-in name and password do not match." : errorText(failure);
      username.focus();
    }
  });
  screen("Sign in", form, h("p", {}, "First time? ", h("a", { href: "#/activate", text: "Activate with your code" })));
}

async function dueScreen(token) {
  let items;
  let stale = false;
  try {
    items = (await api.request("GET", "/me/due")).data.items;
    cache.put("due", items);
  } catch (error) {
    if (!(error instanceof api.NetworkError)) throw error;
    items = cache.get("due") || [];
    stale = true;
  }
  const titles = new Map();
  await Promise.all([...new Set(items.filter((i) => i.status !== "missed").map((i) => i.instrument))]
    .map(async (instrument) => titles.set(instrument, await titleOf(instrument))));
  if (token !== screenToken) return;

  const waiting = outbox.waiting();
  const queued = (item) => waiting.some((e) => e.body.instrument === item.instrument &&
                                               e.body.timepoint === item.timepoint);
  const open = items.filter((i) => i.status === "open" && !queued(i));
  const upcoming = items.filter((i) => i.status === "upcoming").slice(0, 5);
  const completed = items.filter((i) => i.status === "completed");
  const lastDay = (item) => dateOnly.format(new Date(new Date(item.closes_at).getTime() - 1));

  const sections = [];
  if (stale) sections.push(h("p", { class: "notice", role: "status", text: "You are offline: this is the list saved on this phone." }));
  sections.push(h("section", { "aria-labelledby": "todo-heading" },
    h("h2", { id: "todo-heading", text: "To do now" }),
    open.length
      ? h("ul", { class: "due-list" }, open.map((item) => h("li", {},
          h("a", { class: "due-item", href: `#/answer/${encodeURIComponent(item.instrument)}/${encodeURIComponent(item.timepoint)}` },
            h("span", { class: "due-title", text: titles.get(item.instrument) || item.instrument }),
            h("span", { class: "due-when", text: `Please answer by ${lastDay(item)}` })))))
      : h("p", { text: "Nothing to answer right now. Thank you!" })));
  if (waiting.length) {
    sections.push(h("section", { "aria-labelledby": "waiting-heading" },
      h("h2", { id: "waiting-heading", text: "Waiting to send" }),
      h("p", { text: "Saved on this phone. They are sent automatically when you are online." }),
      h("ul", { class: "plain" }, waiting.map((e) => h("li", { text: titles.get(e.body.instrument) || e.body.instrument }))),
      button("Send now", () => outbox.flush(), "secondary")));
  }
  const attention = outbox.needingAttention();
  if (attention.length) {
    sections.push(h("section", { "aria-labelledby": "attention-heading", class: "attention" },
      h("h2", { id: "attention-heading", text: "Needs attention" }),
      h("p", { text: "The server did not accept these answers. Please tell your clinic." }),
      h("ul", { class: "plain" }, attention.map((e) => h("li", {},
        h("strong", { text: titles.get(e.body.instrument) || e.body.instrument }), ` (${e.body.collected_at.slice(0, 10)}): `,
        e.problem.detail || `error ${e.problem.status}`, " ",
        button("Remove", () => { outbox.dismiss(e.id); route(); }, "small", { "aria-label": `Remove ${titles.get(e.body.instrument) || e.body.instrument} from this list` }))))));
  }
  if (upcoming.length) {
    sections.push(h("section", { "aria-labelledby": "upcoming-heading" },
      h("h2", { id: "upcoming-heading", text: "Coming up" }),
      h("ul", { class: "plain" }, upcoming.map((item) => h("li", {},
        `${titles.get(item.instrument) || item.instrument}: from ${dateOnly.format(new Date(item.opens_at))}`)))));
  }
  if (completed.length) {
    sections.push(h("p", { class: "hint", text: `${completed.length} questionnaire${completed.length === 1 ? "" : "s"} done so far.` }));
  }
  sections.push(h("nav", { class: "actions", "aria-label": "More" },
    link("My pain over time", "#/trend"),
    button("Sign out", signOut, "secondary")));
  screen("Your questionnaires", ...sections);
}

async function signOut() {
  try {
    await api.signOut();
  } catch {
    // offline: the tokens are forgotten here anyway; they expire on the server
  }
  go("#/activate");
}

async function answerScreen(token, instrument, timepoint) {
  let definition;
  try {
    definition = await api.getDefinition(instrument, null, preferences.language());
  } catch (error) {
    if (token !== screenToken) return;
    screen("Questionnaire unavailable", h("p", { text: errorText(error) }), link("Back to your questionnaires", "#/due"));
    return;
  }
  if (token !== screenToken) return;
  renderAnswer(definition, timepoint, {});
}

function renderAnswer(definition, timepoint, initial) {
  const form = renderQuestionnaire(definition, initial);
  const summary = h("div", { id: "form-errors", class: "error-summary", role: "alert", tabindex: "-1", hidden: true });
  const submit = h("button", { type: "submit", class: "button primary", text: "Send answers" });
  const element = h("form", { class: "questionnaire", novalidate: true }, summary, form.element,
                    h("div", { class: "actions" }, submit, link("Cancel", "#/due")));

  const intro = [];
  if (definition.languages.length > 1) {
    // Each language named in itself ("Deutsch"), as a speaker of it looks for it.
    const name = (code) => new Intl.DisplayNames([code], { type: "language" }).of(code) || code;
    const select = h("select", { id: "language" }, definition.languages.map((code) =>
      h("option", { value: code, lang: code, selected: code === definition.language, text: name(code) })));
    select.addEventListener("change", async () => {
      preferences.setLanguage(select.value);
      const answers = form.current();
      try {
        const translated = await api.getDefinition(definition.id, definition.version, select.value);
        renderAnswer(translated, timepoint, answers);
        document.getElementById("language").focus();
      } catch (error) {
        summary.hidden = false;
        summary.textContent = errorText(error);
      }
    });
    intro.push(h("div", { class: "field language" }, h("label", { for: "language", text: "Language" }), select));
  }
  if (definition.instructions) {
    intro.push(h("p", { class: "instructions", lang: definition.language, text: definition.instructions }));
  }
  if (definition.recall_period && definition.recall_period.text && !definition.instructions) {
    intro.push(h("p", { class: "hint", lang: definition.language, text: definition.recall_period.text }));
  }
  const fineprint = definition.license && definition.license.attribution
    ? h("p", { class: "fineprint", text: definition.license.attribution }) : null;

  // Once shown, the summary follows the answers, and goes when nothing is missing.
  const recount = () => {
    if (summary.hidden) return;
    const count = main.querySelectorAll(".item.invalid").length;
    summary.hidden = count === 0;
    summary.textContent = count === 1 ? "1 question needs an answer." : `${count} questions need an answer.`;
  };
  element.addEventListener("change", recount);
  element.addEventListener("input", recount);

  let sending = false;
  element.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (sending) return;  // a second tap must not make a second response
    const missing = form.validate();
    if (missing) {
      summary.hidden = false;
      recount();
      missing.focus();
      return;
    }
    sending = true;
    submit.disabled = true;
    const body = { instrument: definition.id, instrument_version: definition.version,
                   collected_at: localTimestamp(), answers: form.answers(),
                   language: definition.language };
    if (timepoint) body.timepoint = timepoint;
    lastOutcome = { ...(await outbox.submit(body)), title: definition.title };
    go("#/done");
  });
  screen(definition.title, ...intro, element, fineprint).lang = definition.language;
}

function doneScreen() {
  const result = lastOutcome;
  if (!result) {  // a reload: what happened since is on the due list
    history.replaceState(null, "", "#/due");
    return dueScreen(screenToken);
  }
  const message = {
    sent: "Your answers have been sent. Thank you!",
    queued: "Your answers are saved on this phone and will be sent automatically when you are back online.",
    attention: `The server could not accept your answers: ${result.problem && result.problem.detail}. They are kept under “Needs attention”.`,
  }[result.outcome];
  screen(result.outcome === "attention" ? "Not sent" : "Thank you",
         h("p", { class: `outcome ${result.outcome}`, id: "outcome", text: message }),
         h("div", { class: "actions" }, link("Back to your questionnaires", "#/due", "primary"),
           link("My pain over time", "#/trend")));
}

async function trendScreen(token) {
  let points = null;
  let stale = false;
  try {
    const items = [];
    let cursor = null;
    for (let page = 0; page < 10; page += 1) {
      const query = `?instrument=${PAIN.instrument}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const { data } = await api.request("GET", `/me/responses${query}`);
      items.push(...data.items);
      cursor = data.next_cursor;
      if (!cursor) break;
    }
    points = items
      .filter((r) => r.scores[PAIN.scale] && r.scores[PAIN.scale].value !== null)
      .map((r) => ({ at: r.collected_at, value: r.scores[PAIN.scale].value }));
    cache.put("trend", points);
  } catch (error) {
    if (!(error instanceof api.NetworkError)) throw error;
    points = cache.get("trend") || [];
    stale = true;
  }
  let scale = { min: 0, max: 10, label: "Average pain" };
  try {
    const definition = await api.getDefinition(PAIN.instrument, null, preferences.language());
    const found = definition.scales.find((s) => s.id === PAIN.scale);
    if (found) scale = { min: found.range[0], max: found.range[1], label: found.label || scale.label };
  } catch {
    // the default scale above
  }
  if (token !== screenToken) return;
  const sorted = points.map((p) => ({ at: new Date(p.at), value: p.value })).sort((a, b) => a.at - b.at);
  screen("My pain over time",
    stale ? h("p", { class: "notice", role: "status", text: "You are offline: these are the ratings saved on this phone." }) : null,
    h("p", { class: "hint", text: `${scale.label}, from 0 (no pain) to ${scale.max}.` }),
    renderTrend(sorted, scale),
    h("div", { class: "actions" }, link("Back to your questionnaires", "#/due")));
}

// --- routing -----------------------------------------------------------------------------------

async function route() {
  const token = ++screenToken;
  const [, name = "", ...args] = location.hash.split("/");
  const signedIn = Boolean(session.get());
  updateStatus();
  try {
    if (!signedIn && name !== "signin") return activateScreen();
    if (!signedIn) return signInScreen();
    if (name === "answer") return await answerScreen(token, decodeURIComponent(args[0] || ""), decodeURIComponent(args[1] || ""));
    if (name === "done") return doneScreen();
    if (name === "trend") return await trendScreen(token);
    if (name === "activate" || name === "signin" || name !== "due") {
      history.replaceState(null, "", "#/due");
    }
    return await dueScreen(token);
  } catch (error) {
    if (token !== screenToken) return;
    if (error instanceof api.ApiError && error.status === 401) return;  // whenSignedOut navigates
    screen("Something went wrong", h("p", { text: errorText(error) }),
           button("Try again", () => route()));
  }
}

api.whenSignedOut(() => {
  flash = { text: "Please sign in again.", kind: "error" };
  go("#/signin");
});

outbox.onChange(updateStatus);
window.addEventListener("online", updateStatus);
window.addEventListener("offline", updateStatus);
window.addEventListener("hashchange", route);
onExternalChange(updateStatus);

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => {
    // no service worker (blocked, or not a secure context): the app works, just not offline-first
  });
}

outbox.start();
route();
