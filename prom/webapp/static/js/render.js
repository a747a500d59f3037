// An instrument definition (GET /api/v1/instruments/{id}) rendered as an accessible form.
//
// Every item is rendered from the definition only: its `text`, or its neutral `label` where the
// licence keeps the wording out of prom (text null) — never invented text. Skip conditions
// (`show_if`) are evaluated on every change, in item order: a hidden item loses its answer and
// is left out of what is sent. Required items that are shown and unanswered get an error
// linked to their controls with aria-describedby.

const SLIDER_ABOVE = 11;  // integer scales with more values than this are sliders by default

// "0 = No pain", or the anchor alone when it already names its value ("0 (worst)").
function anchorText(value, label) {
  return label.startsWith(String(value)) ? label : `${value} = ${label}`;
}

// --- DOM helpers -----------------------------------------------------------------------------

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "text") element.textContent = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

function domId(kind, itemId) {
  return `${kind}-${itemId.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

// --- skip conditions -------------------------------------------------------------------------

const COMPARE = {
  equals: (a, b) => a === b,
  not_equals: (a, b) => a !== b,
  in: (a, b) => b.includes(a),
  gte: (a, b) => a >= b,
  gt: (a, b) => a > b,
  lte: (a, b) => a <= b,
  lt: (a, b) => a < b,
};

// true, false, or null when a deciding answer is missing (the item is then hidden), as the
// server decides (prom/instruments/conditions.py).
export function evaluate(condition, answers, items) {
  if (condition.any || condition.all) {
    const parts = (condition.any || condition.all).map((c) => evaluate(c, answers, items));
    if (condition.any) {
      if (parts.includes(true)) return true;
      return parts.includes(null) ? null : false;
    }
    if (parts.includes(false)) return false;
    return parts.includes(null) ? null : true;
  }
  const operator = Object.keys(COMPARE).find((op) => op in condition);
  const value = answers[condition.item];
  if (value === undefined || value === null) return null;
  const operand = condition[operator];
  const item = items.get(condition.item);
  if (item && item.response.type === "multiple_choice") {
    // "equals x": x is selected; "not_equals x": it is not; "in [...]": any of them is.
    const codes = operator === "in" ? operand : [operand];
    const selected = codes.some((code) => value.includes(code));
    return operator === "not_equals" ? !selected : selected;
  }
  const number = typeof value === "boolean" ? Number(value) : value;
  const target = typeof operand === "boolean" ? Number(operand) : operand;
  return COMPARE[operator](number, Array.isArray(target)
    ? target.map((t) => (typeof t === "boolean" ? Number(t) : t)) : target);
}

// --- the form --------------------------------------------------------------------------------

// Returns {element, answers(), validate(), setAnswers(values)}.
export function renderQuestionnaire(definition, initial = {}) {
  const items = new Map(definition.items.map((item) => [item.id, item]));
  const answers = {};
  const widgets = new Map();

  // The items are in the definition's language; the app's own words (English) say so themselves.
  const list = h("ol", { class: "items", lang: definition.language });
  definition.items.forEach((item, index) => {
    const widget = renderItem(item, index + 1, (value) => {
      if (value === undefined || value === null || (Array.isArray(value) && !value.length)) {
        delete answers[item.id];
      } else {
        answers[item.id] = value;
        widget.showError(null);
      }
      refresh();
    });
    widgets.set(item.id, widget);
    list.append(h("li", { class: "item-slot" }, widget.element));
  });

  function shown(item) {
    return !item.show_if || evaluate(item.show_if, answers, items) === true;
  }

  // Items in order, so a hidden item's answer is gone before later conditions read it.
  function refresh() {
    for (const item of definition.items) {
      const widget = widgets.get(item.id);
      const visible = shown(item);
      widget.element.closest("li").hidden = !visible;
      if (!visible && item.id in answers) {
        delete answers[item.id];
        widget.set(undefined);
      }
      if (!visible) widget.showError(null);
    }
  }

  function setAnswers(values) {
    for (const item of definition.items) {
      if (values[item.id] === undefined || values[item.id] === null) continue;
      answers[item.id] = values[item.id];
      widgets.get(item.id).set(values[item.id]);
    }
    refresh();
  }

  setAnswers(initial);

  return {
    element: list,
    // Every shown item: its answer, or null when unanswered; hidden items are left out.
    answers() {
      const out = {};
      for (const item of definition.items) {
        if (shown(item)) out[item.id] = item.id in answers ? answers[item.id] : null;
      }
      return out;
    },
    current: () => ({ ...answers }),
    // Marks the shown, required, unanswered items; returns the first one's widget (it has
    // focus()), or null when nothing is missing.
    validate() {
      let first = null;
      for (const item of definition.items) {
        const widget = widgets.get(item.id);
        const missing = shown(item) && item.required && !(item.id in answers);
        widget.showError(missing ? "Please answer this question." : null);
        if (missing && !first) first = widget;
      }
      return first;
    },
  };
}

function renderItem(item, number, onAnswer) {
  const response = item.response;
  const question = item.text || item.label;
  const values = response.type === "integer" ? response.max - response.min + 1 : 0;
  if (response.type === "integer" && (response.widget === "slider" ||
      (response.widget !== "buttons" && values > SLIDER_ABOVE))) {
    return slider(item, number, question, onAnswer);
  }
  if (response.type === "date" || response.type === "text") {
    return single(item, number, question, onAnswer);
  }
  return group(item, number, question, onAnswer);
}

function heading(item, number, question) {
  return [
    h("span", { class: "number", text: `${number}.` }), " ", question,
    item.required ? null : h("span", { class: "optional", lang: "en", text: " (optional)" }),
  ];
}

function errorSlot(item) {
  return h("p", { class: "error", id: domId("error", item.id), lang: "en", hidden: true });
}

// Shared error handling: text in the slot, aria-invalid and aria-describedby on the controls.
function withErrors(element, controls, slot, described = []) {
  return (message) => {
    slot.hidden = !message;
    slot.textContent = message || "";
    element.classList.toggle("invalid", Boolean(message));
    for (const control of controls()) {
      const ids = [...described, ...(message ? [slot.id] : [])];
      if (ids.length) control.setAttribute("aria-describedby", ids.join(" "));
      else control.removeAttribute("aria-describedby");
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    }
  };
}

// Radio buttons or checkboxes in a fieldset: integer buttons, choices, yes/no.
function group(item, number, question, onAnswer) {
  const response = item.response;
  const name = domId("item", item.id);
  const slot = errorSlot(item);
  let options;  // [{value, label, hint}]
  let kind = "radio";
  let layout = "options";
  if (response.type === "integer") {
    const anchors = new Map((response.anchors || []).map((a) => [a.value, a.label]));
    options = [];
    for (let v = response.min; v <= response.max; v += 1) {
      options.push({ value: v, label: String(v), hint: anchors.get(v) });
    }
    layout = "scale";
  } else if (response.type === "boolean") {
    const labels = response.labels || {};
    options = [{ value: true, label: labels.true || "Yes" },
               { value: false, label: labels.false || "No" }];
    layout = "yesno";
  } else {
    options = response.options.map((o) => ({ value: o.code, label: o.label }));
    if (response.type === "multiple_choice") kind = "checkbox";
  }
  const exclusive = new Set(response.exclusive || []);

  // A scale's anchored number is named with its anchor ("0: No pain"), which the anchor list
  // under the buttons shows to the eye.
  const inputs = options.map((option, index) => h("input", {
    type: kind, name, value: String(index), id: `${name}-${index}`,
    "aria-label": option.hint ? `${option.label}: ${option.hint}` : null,
  }));
  const labels = options.map((option, index) => h("label", { class: "option", for: inputs[index].id },
    inputs[index], h("span", { class: "option-text", text: option.label })));

  const anchorList = layout === "scale" && (response.anchors || []).length
    ? h("ul", { class: "anchors", "aria-hidden": "true" },
        response.anchors.map((a) => h("li", { text: anchorText(a.value, a.label) })))
    : null;

  const element = h("fieldset", { class: `item ${layout}`, id: domId("question", item.id) },
    h("legend", {}, heading(item, number, question)),
    h("div", { class: `choices ${layout}` }, labels),
    anchorList,
    slot);

  function read() {
    const chosen = inputs.filter((input) => input.checked).map((input) => options[Number(input.value)].value);
    if (kind === "checkbox") return chosen;
    return chosen.length ? chosen[0] : undefined;
  }

  inputs.forEach((input, index) => input.addEventListener("change", () => {
    if (kind === "checkbox" && input.checked) {
      // An exclusive code ("none of these") stands alone.
      const isExclusive = exclusive.has(options[index].value);
      inputs.forEach((other, k) => {
        if (k !== index && (isExclusive || exclusive.has(options[k].value))) other.checked = false;
      });
    }
    onAnswer(read());
  }));

  return {
    element,
    focus: () => (inputs.find((i) => i.checked) || inputs[0]).focus(),
    set(value) {
      const chosen = value === undefined ? [] : (kind === "checkbox" ? value : [value]);
      inputs.forEach((input, index) => {
        input.checked = chosen.some((v) => v === options[index].value);
      });
    },
    showError: withErrors(element, () => inputs, slot),
  };
}

// A date or a free text, with a <label>.
function single(item, number, question, onAnswer) {
  const response = item.response;
  const id = domId("item", item.id);
  const slot = errorSlot(item);
  const described = [];
  let control;
  let counter = null;
  if (response.type === "date") {
    control = h("input", { type: "date", id, name: id });
  } else {
    const max = response.max_length;
    control = h("textarea", { id, name: id, rows: 4, maxlength: max || null });
    if (max) {
      counter = h("p", { class: "hint", id: domId("count", item.id) });
      described.push(counter.id);
    }
  }
  const updateCounter = () => {
    if (counter) counter.textContent = `${control.value.length} of ${response.max_length} characters`;
  };
  updateCounter();
  if (described.length) control.setAttribute("aria-describedby", described.join(" "));
  control.addEventListener("input", () => {
    updateCounter();
    onAnswer(control.value.trim() === "" ? undefined : control.value);
  });
  const element = h("div", { class: "item", id: domId("question", item.id) },
    h("label", { class: "question", for: id }, heading(item, number, question)),
    control, counter, slot);
  return {
    element,
    focus: () => control.focus(),
    set(value) {
      control.value = value === undefined ? "" : value;
      updateCounter();
    },
    showError: withErrors(element, () => [control], slot, described),
  };
}

// An integer as <input type=range>: unanswered until touched, its value shown beside it.
function slider(item, number, question, onAnswer) {
  const response = item.response;
  const id = domId("item", item.id);
  const slot = errorSlot(item);
  const anchors = new Map((response.anchors || []).map((a) => [a.value, a.label]));
  const middle = Math.round((response.min + response.max) / 2);
  const control = h("input", {
    type: "range", id, name: id, min: response.min, max: response.max, step: 1,
    value: middle, class: "untouched", "aria-valuetext": "Not answered yet",
  });
  const output = h("output", { for: id, class: "slider-value", text: "Not answered yet" });
  const anchorList = h("ul", { class: "anchors", id: domId("anchors", item.id) },
    (response.anchors || []).map((a) => h("li", { text: anchorText(a.value, a.label) })));
  const described = [anchorList.id];
  control.setAttribute("aria-describedby", described.join(" "));
  let touched = false;

  function show(value) {
    const text = anchors.has(value) ? anchorText(value, anchors.get(value)) : String(value);
    output.textContent = touched ? text : "Not answered yet";
    control.setAttribute("aria-valuetext", touched ? text : "Not answered yet");
    control.classList.toggle("untouched", !touched);
  }
  function touch() {
    touched = true;
    const value = Number(control.value);
    show(value);
    onAnswer(value);
  }
  control.addEventListener("input", touch);
  control.addEventListener("change", touch);
  control.addEventListener("pointerup", touch);

  const element = h("div", { class: "item slider", id: domId("question", item.id) },
    h("label", { class: "question", for: id }, heading(item, number, question)),
    h("div", { class: "slider-row" }, control, output), anchorList, slot);
  return {
    element,
    focus: () => control.focus(),
    set(value) {
      touched = value !== undefined;
      control.value = touched ? value : middle;
      show(Number(control.value));
    },
    showError: withErrors(element, () => [control], slot, described),
  };
}
