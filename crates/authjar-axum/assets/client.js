// authjar browser client, served by authjar at /auth/client.js.
// A dependency-free ES module: every request carries the cookies
// (credentials: 'include'), unsafe methods carry the CSRF token, and a 401
// triggers one refresh (single-flight in the tab, coordinated across tabs
// with the Web Locks API) and one retry.

const base = new URL('..', import.meta.url).href.replace(/\/$/, '');
const UNSAFE = /^(POST|PUT|PATCH|DELETE)$/i;
const LOCK = 'authjar-refresh';
const STAMP = 'authjar:refreshed-at';

let csrfToken = null;
let refreshing = null;
// Set by logout() in this tab: a 401 then means "logged out", not "refresh".
let loggedOut = false;
const listeners = new Set();

/** The URL of the authjar server this module was loaded from. */
export const authjarUrl = base;

/** An error answer from authjar: `code` is its stable error code. */
export class AuthError extends Error {
  constructor(status, body) {
    super((body && body.message) || `authjar answered HTTP ${status}`);
    this.name = 'AuthError';
    this.status = status;
    this.code = (body && body.error) || 'http_' + status;
  }
}

/** Calls `fn(event)` on 'login', 'refresh' and 'logout'; returns an unsubscribe function. */
export function onAuthChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(event) {
  for (const fn of listeners) {
    try { fn(event); } catch (e) { console.error(e); }
  }
}

function remember(body) {
  if (body && typeof body.csrf_token === 'string') csrfToken = body.csrf_token;
}

async function csrf() {
  if (csrfToken) return csrfToken;
  const res = await fetch(`${base}/auth/csrf`, { credentials: 'include' });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new AuthError(res.status, body);
  remember(body);
  return csrfToken;
}

async function isCsrfRefusal(res) {
  if (res.status !== 403) return false;
  const body = await res.clone().json().catch(() => null);
  return Boolean(body && typeof body.error === 'string' && body.error.startsWith('csrf_token_'));
}

async function send(url, init, method) {
  const headers = new Headers(init.headers || undefined);
  let body = init.body;
  if (UNSAFE.test(method)) {
    headers.set('X-CSRF-Token', await csrf());
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
    if (body === undefined || body === null) body = '{}';
  }
  return fetch(url, { ...init, method, headers, body, credentials: 'include' });
}

/** `send`, retried once with a fresh CSRF token when the token was refused. */
async function sendWithToken(url, init, method) {
  const res = await send(url, init, method);
  if (UNSAFE.test(method) && (await isCsrfRefusal(res))) {
    csrfToken = null;
    return send(url, init, method);
  }
  return res;
}

function isAuthUrl(url, path) {
  return String(url).startsWith(`${base}${path}`);
}

/**
 * `fetch` for your API: always sends cookies, adds X-CSRF-Token on unsafe
 * methods (fetching a token when it has none), and on a 401 refreshes the
 * session once and retries once. `init.body` must be re-sendable (a string,
 * FormData, Blob…), not a stream.
 */
export async function authFetch(url, init = {}) {
  const method = (init.method || 'GET').toUpperCase();
  const sentAt = Date.now();
  const res = await sendWithToken(url, init, method);
  if (res.status !== 401 || loggedOut || isAuthUrl(url, '/auth/refresh') || isAuthUrl(url, '/auth/login')) return res;
  if (!(await refresh(sentAt))) return res;
  return sendWithToken(url, init, method);
}

function stamp() {
  try { return Number(localStorage.getItem(STAMP) || 0); } catch { return 0; }
}

function setStamp() {
  try { localStorage.setItem(STAMP, String(Date.now())); } catch { /* storage disabled */ }
}

async function refreshOnce() {
  const res = await sendWithToken(`${base}/auth/refresh`, {}, 'POST');
  if (!res.ok) return false;
  remember(await res.json().catch(() => null));
  setStamp();
  emit('refresh');
  return true;
}

/**
 * Refreshes the session. One refresh at a time per tab; across tabs the
 * Web Locks API serialises them, and a tab whose request failed before
 * another tab's refresh finished uses that refresh instead of its own.
 * `since`: when the request that got the 401 was sent (default: now).
 */
export function refresh(since = Date.now()) {
  if (!refreshing) {
    // Another tab's refresh that finished after our failed request was sent
    // already fixed the cookies: reuse it instead of sending our own.
    const run = async () => (stamp() >= since ? true : refreshOnce());
    const job = navigator.locks ? navigator.locks.request(LOCK, run) : run();
    refreshing = job.finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function authPost(path, payload) {
  const res = await sendWithToken(`${base}${path}`, { body: JSON.stringify(payload) }, 'POST');
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new AuthError(res.status, body);
  remember(body);
  return body;
}

/** Creates an account and logs it in; resolves to the user. */
export async function register({ email, password, name } = {}) {
  const body = await authPost('/auth/register', { email, password, name });
  loggedOut = false;
  emit('login');
  return body.user;
}

/** Logs in; resolves to the user. */
export async function login({ email, password } = {}) {
  const body = await authPost('/auth/login', { email, password });
  loggedOut = false;
  emit('login');
  return body.user;
}

/** Logs out: the server revokes the session and clears every cookie. */
export async function logout() {
  const res = await sendWithToken(`${base}/auth/logout`, {}, 'POST');
  csrfToken = null;
  loggedOut = true;
  emit('logout');
  if (!res.ok && res.status !== 401) throw new AuthError(res.status, await res.json().catch(() => null));
}

/** The current user and session, or null when logged out (refreshing once if needed). */
export async function me() {
  const res = await authFetch(`${base}/auth/me`);
  if (res.status === 401) return null;
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new AuthError(res.status, body);
  return body;
}

/** The current CSRF token (fetched when there is none), for forms of your own. */
export function csrfTokenValue() {
  return csrf();
}

/**
 * Finishes a social login on a page the callback returned to: with
 * `?auth_code=` (a cross-site app) trades the one-time code for session
 * cookies set by this page's own fetch; with `?auth_error=` throws an
 * AuthError carrying that code. Removes both from the address bar.
 * Resolves to the user, or null when there was nothing to finish.
 */
export async function completeOAuthLogin() {
  const url = new URL(location.href);
  const code = url.searchParams.get('auth_code');
  const error = url.searchParams.get('auth_error');
  if (!code && !error) return null;
  url.searchParams.delete('auth_code');
  url.searchParams.delete('auth_error');
  history.replaceState(null, '', url);
  if (error) throw new AuthError(400, { error, message: `login with the provider failed: ${error}` });
  const body = await authPost('/auth/oauth/exchange', { code });
  loggedOut = false;
  emit('login');
  return body.user;
}

/** The configured social-login providers: [{id, name, start_url}]. */
export async function providers() {
  const res = await fetch(`${base}/auth/providers`, { credentials: 'include' });
  return res.ok ? (await res.json()).providers : [];
}

/** The URL that starts a social login and comes back to `returnTo` (default: this page). */
export function loginUrl(provider, returnTo = location.href) {
  return `${provider.start_url}?return_to=${encodeURIComponent(returnTo)}`;
}
