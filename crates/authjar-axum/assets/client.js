// authjar browser client, served by authjar at /auth/client.js.
// A dependency-free ES module. For authjar and the API origins you allow
// (configure({ apiOrigins })), requests carry the cookies (credentials:
// 'include') and unsafe methods carry the CSRF token; a 401 from them
// triggers one refresh (single-flight in the tab, coordinated across tabs
// with the Web Locks API) and one retry. Any other URL gets a plain fetch:
// no cookies, no token, no refresh.

const base = new URL('..', import.meta.url).href.replace(/\/$/, '');
const baseOrigin = new URL(base).origin;
const UNSAFE = /^(POST|PUT|PATCH|DELETE)$/i;
const LOCK = `authjar-refresh:${base}`;
const STAMP = `authjar:refreshed-at:${base}`;
const VERIFIER = `authjar:handoff-verifier:${base}`;
// A refresh another tab finished more than this long ago is not reused.
const STAMP_MAX_AGE_MS = 60_000;
// Credentials this young cannot have expired (access tokens live a second at least).
const FRESH_MS = 1000;
// The codes the callback sends back as ?auth_error=; anything else is not shown.
const OAUTH_ERRORS = new Set([
  'invalid_transaction', 'unknown_provider', 'transaction_expired', 'invalid_callback',
  'provider_error', 'state_mismatch', 'issuer_mismatch', 'token_exchange_failed',
  'id_token_invalid', 'email_missing', 'userinfo_failed', 'provider_unavailable',
  'email_not_verified', 'provider_email_unverified', 'login_failed', 'handoff_unbound',
  'identity_taken', 'link_failed',
]);

// The app origins this authjar allows, written in by authjar when it serves
// this file (empty in a copy served elsewhere: then nothing is checked here).
const APP_ORIGINS = /*authjar:app-origins*/[];
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

let csrfToken = null;
let refreshing = null;
// When this tab's last refresh finished (the stamp is shared, this is ours).
let lastRefreshAt = 0;
// Set by logout (here or in another tab): a 401 then means "logged out", not "refresh".
let loggedOut = false;
// The user this tab logged in as or last saw; a refresh that answers with
// someone else (a cookie planted by another site) logs out instead of switching.
let knownUserId = null;
const allowedOrigins = new Set([baseOrigin]);
const listeners = new Set();
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`authjar:${base}`) : null;

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

/**
 * authjar's diagnostics page for this browser (`GET /auth/debug`), told
 * which page sent you there.
 */
export const debugUrl = typeof location === 'undefined'
  ? `${base}/auth/debug`
  : `${base}/auth/debug?from=${encodeURIComponent(location.origin)}`;

/**
 * The page's origin is not an allowed app origin: the browser would refuse
 * every credentialed call with a bare CORS error, so say it once, plainly,
 * with the fix (the same advice as the `localhost-vs-127-mixed` and
 * `cors-origin-not-echoed` findings of `authjar check` and `/auth/debug`).
 */
function pageOriginProblem() {
  if (typeof location === 'undefined' || APP_ORIGINS.length === 0) return null;
  const page = location.origin;
  if (page === baseOrigin || APP_ORIGINS.includes(page)) return null;
  const here = new URL(location.href);
  const twin = APP_ORIGINS.find((o) => {
    const u = new URL(o);
    return u.protocol === here.protocol && u.port === here.port && LOOPBACK.has(u.hostname) && LOOPBACK.has(here.hostname);
  });
  const fix = twin
    ? `open the app at ${twin} instead: ${here.hostname} and ${new URL(twin).hostname} are different sites to the browser, so it keeps no login across them (localhost-vs-127-mixed)`
    : `open the app at an allowed origin, or add ${page} to authjar's app_origins (AUTHJAR_APP_ORIGINS) and restart it (cors-origin-not-echoed)`;
  const err = new AuthError(0, {
    error: 'page_origin_not_allowed',
    message: `This page's origin ${page} is not an allowed app origin of authjar at ${base} `
      + `(allowed: ${APP_ORIGINS.join(', ')}), so the browser refuses every call it makes. `
      + `Fix: ${fix}. Details: ${debugUrl}`,
  });
  err.pageOrigin = page;
  err.allowedOrigins = [...APP_ORIGINS];
  err.debugUrl = debugUrl;
  return err;
}

function checkPageOrigin() {
  const problem = pageOriginProblem();
  if (problem) throw problem;
}

/**
 * Names the origins of your API besides authjar's own: authFetch sends them
 * cookies and the CSRF token, and refreshes the session on their 401s.
 */
export function configure({ apiOrigins = [] } = {}) {
  for (const o of apiOrigins) allowedOrigins.add(new URL(o).origin);
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

// Login and logout reach every tab of this authjar: the other tabs drop
// their CSRF token (it belonged to the old session) and tell their listeners.
channel?.addEventListener('message', ({ data }) => {
  if (!data || typeof data !== 'object') return;
  csrfToken = null;
  if (data.type === 'logout') {
    loggedOut = true;
    knownUserId = null;
    emit('logout');
  } else if (data.type === 'login' && typeof data.userId === 'string') {
    loggedOut = false;
    knownUserId = data.userId;
    emit('login');
  }
});

function loggedIn(user, event) {
  loggedOut = false;
  lastRefreshAt = 0;
  knownUserId = user && user.id;
  channel?.postMessage({ type: 'login', userId: knownUserId });
  emit(event);
}

function forget() {
  csrfToken = null;
  loggedOut = true;
  knownUserId = null;
  channel?.postMessage({ type: 'logout' });
  emit('logout');
}

function remember(body) {
  if (body && typeof body.csrf_token === 'string') csrfToken = body.csrf_token;
}

async function csrf() {
  if (csrfToken) return csrfToken;
  checkPageOrigin();
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

function isAllowed(url) {
  try { return allowedOrigins.has(new URL(url, location.href).origin); } catch { return false; }
}

async function send(url, init, method) {
  checkPageOrigin();
  const headers = new Headers(init.headers || undefined);
  let body = init.body;
  if (UNSAFE.test(method)) {
    headers.set('X-CSRF-Token', await csrf());
    if (!headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
    if (body === undefined || body === null) body = '{}';
  }
  return fetch(url, { ...init, method, headers, body, credentials: 'include' });
}

/** An unsafe request to authjar itself, sent again once with a fresh token if the token was refused. */
async function authjarPost(path, body, method = 'POST') {
  const init = body === undefined ? {} : { body: JSON.stringify(body) };
  const res = await send(`${base}${path}`, init, method);
  if (!(await isCsrfRefusal(res))) return res;
  csrfToken = null;
  return send(`${base}${path}`, init, method);
}

function isAuthUrl(url, path) {
  return String(url).startsWith(`${base}${path}`);
}

/**
 * `fetch` for your API. For authjar and the origins given to configure():
 * sends cookies, adds X-CSRF-Token on unsafe methods (fetching a token when
 * it has none), and after a CSRF refusal or a 401 tries once more (a 401
 * refreshes the session first); a request is never sent more than twice,
 * and a 401 after a refresh means logged out. Any other URL: plain fetch.
 * `init.body` must be re-sendable (a string, FormData, Blob…), not a stream.
 */
export async function authFetch(url, init = {}) {
  if (!isAllowed(url)) return fetch(url, init);
  const method = (init.method || 'GET').toUpperCase();
  const sentAt = Date.now();
  const res = await send(url, init, method);
  if (UNSAFE.test(method) && (await isCsrfRefusal(res))) {
    csrfToken = null;
    return send(url, init, method);
  }
  if (res.status !== 401 || loggedOut || isAuthUrl(url, '/auth/refresh') || isAuthUrl(url, '/auth/login')) return res;
  // Sent just after this tab's refresh had finished (fresh credentials) and
  // still refused: the session is over; another refresh would only loop.
  if (lastRefreshAt && sentAt >= lastRefreshAt && sentAt - lastRefreshAt < FRESH_MS) {
    forget();
    return res;
  }
  if (!(await refresh(sentAt))) return res;
  const retry = await send(url, init, method);
  if (retry.status === 401) forget();
  return retry;
}

function stamp() {
  try {
    const t = Number(localStorage.getItem(STAMP) || 0);
    // A stamp in the future (a clock stepped back, any script) or an old one is ignored.
    const now = Date.now();
    return t <= now && now - t <= STAMP_MAX_AGE_MS ? t : 0;
  } catch { return 0; }
}

// The stamp is also published as a held Web Lock named after its time:
// localStorage is not always current across tabs in other processes (both
// engines may show another tab a stale value for a moment), while the lock
// manager is one place, and the lock is held before the refresh lock is
// released, so the next tab to take that lock sees it.
const STAMP_LOCK = `authjar-refreshed:${base}:`;
let releaseStamp = null;

async function publishStamp(t) {
  try { localStorage.setItem(STAMP, String(t)); } catch { /* storage disabled */ }
  if (!navigator.locks) return;
  if (releaseStamp) releaseStamp();
  await new Promise((granted) => {
    navigator.locks.request(`${STAMP_LOCK}${t}`, { mode: 'shared' }, () => {
      granted();
      return new Promise((release) => {
        const timer = setTimeout(release, STAMP_MAX_AGE_MS);
        releaseStamp = () => { clearTimeout(timer); release(); };
      });
    }).catch(() => granted());
  });
}

/** The newest refresh any tab of this authjar finished (0: none recent). */
async function lastStamp() {
  let t = stamp();
  if (navigator.locks && navigator.locks.query) {
    try {
      const { held = [] } = await navigator.locks.query();
      const now = Date.now();
      for (const lock of held) {
        if (typeof lock.name !== 'string' || !lock.name.startsWith(STAMP_LOCK)) continue;
        const s = Number(lock.name.slice(STAMP_LOCK.length));
        if (s <= now && now - s <= STAMP_MAX_AGE_MS && s > t) t = s;
      }
    } catch { /* no query: the localStorage stamp alone */ }
  }
  return t;
}

async function refreshOnce() {
  const res = await authjarPost('/auth/refresh');
  if (!res.ok) {
    if (res.status === 401) forget();
    return false;
  }
  const body = await res.json().catch(() => null);
  const id = body && body.user && body.user.id;
  if (knownUserId && id !== knownUserId) {
    // Not the account this tab logged into: never switch, log out.
    await authjarPost('/auth/logout').catch(() => null);
    forget();
    return false;
  }
  knownUserId = id || knownUserId;
  remember(body);
  lastRefreshAt = Date.now();
  await publishStamp(lastRefreshAt);
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
    const run = async () => ((await lastStamp()) >= since ? true : refreshOnce());
    const job = navigator.locks ? navigator.locks.request(LOCK, run) : run();
    refreshing = job.finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function authPost(path, payload, method = 'POST') {
  const res = await authjarPost(path, payload, method);
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new AuthError(res.status, body);
  remember(body);
  return body;
}

/**
 * Creates an account and sends the link that confirms its e-mail; resolves
 * to the user. Logged in at once, unless the server requires a verified
 * e-mail: then `user.email_verified` is false and there is no session until
 * the link is opened (confirmEmail) and the person logs in.
 */
export async function register({ email, password, name } = {}) {
  const body = await authPost('/auth/register', { email, password, name });
  if (body.status !== 'verification_sent') loggedIn(body.user, 'login');
  return body.user;
}

/** Sends a new confirmation link (the same answer whether or not the address has an account). */
export async function requestEmailVerification(email) {
  await authPost('/auth/verify-email/request', { email });
}

/** Confirms the e-mail with the token from the link; resolves to the user. */
export async function confirmEmail(token) {
  return (await authPost('/auth/verify-email/confirm', { token })).user;
}

/** Sends a password-reset link (the same answer whether or not the address has an account). */
export async function forgotPassword(email) {
  await authPost('/auth/password/forgot', { email });
}

/** Sets a new password with the token from a reset link; every session ends, so log in next. */
export async function resetPassword(token, password) {
  await authPost('/auth/password/reset', { token, password });
  forget();
}

/** Changes the password; this session stays, every other one ends. */
export async function changePassword({ currentPassword, newPassword } = {}) {
  await authPost('/auth/password/change', { current_password: currentPassword, new_password: newPassword });
}

/** Deletes the account (password required when it has one); logs out everywhere. */
export async function deleteAccount({ password } = {}) {
  await authPost('/auth/account', { password }, 'DELETE');
  forget();
}

/**
 * The e-mail link this page was opened with, if any: `{ action:
 * 'verify_email' | 'reset_password', token }`, taken out of the address bar
 * (the token travels in the fragment, which no server sees). Null otherwise.
 */
export function emailLink() {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const action of ['verify_email', 'reset_password']) {
    const token = params.get(action);
    if (token) {
      const url = new URL(location.href);
      url.hash = '';
      history.replaceState(null, '', url);
      return { action, token };
    }
  }
  return null;
}

/** Logs in; resolves to the user. */
export async function login({ email, password } = {}) {
  const body = await authPost('/auth/login', { email, password });
  loggedIn(body.user, 'login');
  return body.user;
}

/** Logs out here and in every other tab: the server revokes the session and clears every cookie. */
export async function logout() {
  const res = await authjarPost('/auth/logout');
  forget();
  if (!res.ok && res.status !== 401) throw new AuthError(res.status, await res.json().catch(() => null));
}

/** The current user and session, or null when logged out (refreshing once if needed). */
export async function me() {
  const res = await authFetch(`${base}/auth/me`);
  if (res.status === 401) return null;
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new AuthError(res.status, body);
  knownUserId = body.user.id;
  return body;
}

/** The current CSRF token (fetched when there is none), for forms of your own. */
export function csrfTokenValue() {
  return csrf();
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * Finishes a social login on the page the callback returned to; call it
 * first, before the page loads anything else. With `#auth_code=` (a
 * cross-site app) it trades the one-time code, with the verifier this tab
 * kept when it started the login, for session cookies set by this page's own
 * fetch; with `?auth_error=` it throws an AuthError carrying that code (only
 * codes authjar sends; other text is ignored). Removes both from the
 * address bar. Resolves to the user, or null when there was nothing to finish.
 */
export async function completeOAuthLogin() {
  const url = new URL(location.href);
  const fragment = new URLSearchParams(url.hash.slice(1));
  const code = fragment.get('auth_code');
  const error = url.searchParams.get('auth_error');
  if (!code && !error) return null;
  url.searchParams.delete('auth_error');
  if (code) url.hash = '';
  history.replaceState(null, '', url);
  let verifier = null;
  try {
    verifier = sessionStorage.getItem(VERIFIER);
    sessionStorage.removeItem(VERIFIER);
  } catch { /* storage disabled */ }
  if (error) {
    const known = OAUTH_ERRORS.has(error) ? error : 'oauth_failed';
    throw new AuthError(400, { error: known, message: `login with the provider failed: ${known}` });
  }
  if (!verifier) {
    throw new AuthError(400, { error: 'handoff_unbound', message: 'this tab did not start a login: log in again' });
  }
  const body = await authPost('/auth/oauth/exchange', { code, verifier });
  loggedIn(body.user, 'login');
  return body.user;
}

/** The configured social-login providers: [{id, name, start_url}]. */
export async function providers() {
  checkPageOrigin();
  const res = await fetch(`${base}/auth/providers`, { credentials: 'include' });
  return res.ok ? (await res.json()).providers : [];
}

/**
 * The URL that starts a social login and comes back to `returnTo` (default:
 * this page). It binds the login to this tab: a verifier kept in
 * sessionStorage, its SHA-256 sent as `handoff_challenge`. Navigate to it
 * from this tab (location.assign), not in a new one.
 */
export async function loginUrl(provider, returnTo = location.href) {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  try { sessionStorage.setItem(VERIFIER, verifier); } catch { /* storage disabled */ }
  const q = new URLSearchParams({ return_to: returnTo, handoff_challenge: base64url(digest) });
  return `${provider.start_url}?${q}`;
}
