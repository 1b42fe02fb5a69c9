// The only way the dashboard talks to certdeployd: the public REST API with
// the session's token. Every failure becomes an ApiError carrying the
// server's own message and, for validation errors, the field to fix.
import { sessionToken } from './session.js';

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status; // HTTP status, 0 when the server could not be reached
    this.code = code; // the error body's code, e.g. "ca_validation_failed"
    this.field = field || null; // the request field the server blames, if any
  }
}

let onUnauthorized = () => {};

/** Called with the ApiError whenever the server stops accepting the token. */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/**
 * One request. body (optional) is sent as JSON. token overrides the
 * session's (used by sign-in before the session exists). signal (an
 * AbortSignal, e.g. the view's) cancels the request. Resolves to the
 * parsed reply (null for 204); rejects with ApiError, or with the signal's
 * reason once it aborted.
 */
export async function api(method, path, { body, token, signal } = {}) {
  const headers = { Accept: 'application/json' };
  // A request of a view left behind by sign-out (the second of a refresh's
  // requests, say) has no session to speak for: it is not sent, and its
  // failure does not sign out again over the sign-in form.
  const session = token === undefined ? sessionToken() : null;
  if (token === undefined && !session) throw new ApiError(401, 'unauthorized', 'Sign in first.');
  const bearer = token ?? session;
  headers.Authorization = `Bearer ${bearer}`;
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, cache: 'no-store', credentials: 'omit', signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    throw new ApiError(0, 'network', 'The server cannot be reached. Check the connection and try again.');
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (res.ok) return json;
  const e = json && json.error ? json.error : {};
  const err = new ApiError(res.status, e.code || `http_${res.status}`,
    e.message || `The server answered ${res.status} ${res.statusText}.`, e.field);
  // Only while the session that sent it is still the one signed in.
  if (res.status === 401 && token === undefined && sessionToken() === session) onUnauthorized(err);
  throw err;
}

/** Query string from an object, skipping empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Every row of a paginated list (follows next_cursor). Stops after max rows
 * so a huge fleet cannot freeze the page; returns {rows, more}.
 */
export async function listAll(path, key, params = {}, max = 2000) {
  const rows = [];
  let cursor = null;
  for (;;) {
    const page = await api('GET', path + query({ ...params, limit: 500, cursor }));
    rows.push(...(page[key] || []));
    cursor = page.next_cursor;
    if (!cursor) return { rows, more: false };
    if (rows.length >= max) return { rows, more: true };
  }
}

/** Runs fn over items with at most `width` requests in flight; keeps order. */
export async function mapLimited(items, width, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  return out;
}
