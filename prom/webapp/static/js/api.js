// The prom API (/api/v1): bearer tokens, one refresh on 401, problem+json errors.
//
// `request` resolves with {status, headers, data} for 2xx and 304, and throws
//   - NetworkError when no answer came (offline, connection dropped, server unreachable);
//   - ApiError with the problem document for any other status.
// A 401 is retried once after refreshing the tokens. Refresh tokens are single use (reusing
// one ends the whole session), so concurrent 401s share one refresh.

import { definitions, session } from "./store.js";

export const BASE = "/api/v1";

export class NetworkError extends Error {
  constructor(cause) {
    super("No connection to the server.");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `The server answered ${status}.`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem || {};
  }

  // {field path: [messages]} from a 422 problem, or {}.
  get fieldErrors() {
    return this.problem.errors || {};
  }
}

// Called when the session cannot be renewed: the participant must sign in again.
let onSignedOut = () => {};
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

async function send(method, path, { body, token, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (token) init.headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch (error) {
    throw new NetworkError(error);
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (response.status !== 204 && response.status !== 304 && type.includes("json")) {
    try {
      data = await response.json();
    } catch (error) {
      throw new NetworkError(error);  // the body was cut off
    }
  }
  if (response.ok || response.status === 304) {
    return { status: response.status, headers: response.headers, data };
  }
  throw new ApiError(response.status, data);
}

let refreshing = null;

// Another tab may refresh at the same moment, and a refresh token used twice ends the session:
// tabs take turns through a Web Lock where the browser has them, and a tab that finds the
// tokens already renewed (`rejected` is no longer the current access token) uses those.
function exclusively(task) {
  return navigator.locks ? navigator.locks.request("prom-refresh", task) : task();
}

// New tokens from the refresh token; one request however many callers ask at once.
function refreshTokens(rejected) {
  if (!refreshing) {
    refreshing = exclusively(async () => {
      const current = session.get();
      if (!current || !current.refreshToken) throw new ApiError(401, { detail: "Not signed in." });
      if (current.accessToken !== rejected) return;  // renewed meanwhile
      try {
        const { data } = await send("POST", "/auth/refresh", { token: current.refreshToken });
        session.set({ ...current, accessToken: data.access_token, refreshToken: data.refresh_token });
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          session.clear();
          onSignedOut();
        }
        throw error;
      }
    }).finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

export async function request(method, path, options = {}) {
  const { auth = true, ...rest } = options;
  if (!auth) return send(method, path, rest);
  const current = session.get();
  if (!current) {
    onSignedOut();
    throw new ApiError(401, { detail: "Not signed in." });
  }
  try {
    return await send(method, path, { ...rest, token: current.accessToken });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
  }
  await refreshTokens(current.accessToken);
  return send(method, path, { ...rest, token: session.get().accessToken });
}

export async function activate(activationCode, password) {
  const { data } = await request("POST", "/auth/activate", {
    auth: false, body: { activation_code: activationCode, password },
  });
  session.set({ accessToken: data.access_token, refreshToken: data.refresh_token,
                username: data.username });
  return data.username;
}

export async function signIn(username, password) {
  const { data } = await request("POST", "/auth/login", {
    auth: false, body: { username, password },
  });
  session.set({ accessToken: data.access_token, refreshToken: data.refresh_token, username });
}

export async function signOut() {
  try {
    await request("POST", "/auth/logout");
  } finally {
    session.clear();
  }
}

// An instrument definition in `language` (null: the server negotiates), from the device's
// cache when the server answers 304 or cannot be reached. `version` null means the latest.
export async function getDefinition(id, version, language) {
  const path = `/instruments/${encodeURIComponent(id)}` +
    (version ? `/${encodeURIComponent(version)}` : "") +
    (language ? `?lang=${encodeURIComponent(language)}` : "");
  const cached = definitions.get(path);
  const headers = cached && cached.etag ? { "If-None-Match": cached.etag } : {};
  try {
    const { status, headers: answer, data } = await request("GET", path, { auth: false, headers });
    if (status === 304 && cached) return cached.definition;
    definitions.put(path, { etag: answer.get("ETag"), definition: data });
    return data;
  } catch (error) {
    if (error instanceof NetworkError && cached) return cached.definition;
    throw error;
  }
}
