// What the app keeps on the device, in localStorage: the sign-in, cached instrument definitions
// (with their ETags), the last due list and pain trend (for offline use), the outbox of answers
// not yet acknowledged by the server, and the answers that need the participant's attention.
//
// localStorage writes are synchronous, so an answer is on disk before any network attempt
// starts. Every value is JSON under a "prom." key.

const PREFIX = "prom.";

function read(key, fallback) {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;  // unreadable (corrupt, or storage disabled): behave as empty
  }
}

function write(key, value) {
  if (value === undefined || value === null) {
    localStorage.removeItem(PREFIX + key);
  } else {
    localStorage.setItem(PREFIX + key, JSON.stringify(value));
  }
}

export const session = {
  get: () => read("session", null),
  set: (value) => write("session", value),
  clear: () => write("session", null),
};

export const definitions = {
  get: (key) => read("definitions", {})[key] || null,
  put(key, entry) {
    const all = read("definitions", {});
    all[key] = entry;
    write("definitions", all);
  },
};

export const cache = {
  get: (key) => read(`cache.${key}`, null),
  put: (key, value) => write(`cache.${key}`, value),
};

export const preferences = {
  language: () => read("language", null),
  setLanguage: (value) => write("language", value),
};

// The outbox and the attention list: arrays of entries {id, owner, body, queuedAt, attempts,
// problem?}. Each change re-reads the array, so two tabs do not overwrite each other's entries.
function list(key) {
  return {
    all: () => read(key, []),
    add(entry) {
      const entries = read(key, []).filter((e) => e.id !== entry.id);
      entries.push(entry);
      write(key, entries);
    },
    update(id, changes) {
      write(key, read(key, []).map((e) => (e.id === id ? { ...e, ...changes } : e)));
    },
    remove(id) {
      write(key, read(key, []).filter((e) => e.id !== id));
    },
  };
}

export const outbox = list("outbox");
export const attention = list("attention");

// Another tab changed the outbox or the sign-in: tell this one.
export function onExternalChange(callback) {
  window.addEventListener("storage", (event) => {
    if (event.key === null || event.key.startsWith(PREFIX)) callback(event.key);
  });
}
