// One deployment topology, end to end: start what it needs on loopback,
// drive the demo marketplace in Chromium through every flow, run the
// attacks, and stop everything.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchEngine } from './browser.js';
import { bannerCookies, jarCookies } from './banner.js';
import { attackPage, startEvil } from './evil.js';
import { startNginx } from './nginx.js';
import { execFileSync } from 'node:child_process';
import { onFreePorts, startHub, ROOT, AUTHJAR_BIN } from './servers.js';
import { ACCESS_TTL_SECS, outliveAccessToken, record, waitFor } from './util.js';

export const SECRET = '0123456789abcdef0123456789abcdef-e2e';
const ARTIFACTS = join(ROOT, 'e2e', 'artifacts');

/**
 * Starts the demo (and nginx in front of it for a proxied topology) with
 * authjar on `apiPort` and the app's pages on `appPort`. Returns the hub,
 * the ports and what to stop; stops what it started if a part fails.
 */
async function startServers(t, certs, { apiPort, appPort, https }) {
  const env = {
    AUTHJAR_LISTEN: `127.0.0.1:${apiPort}`,
    AUTHJAR_ACCESS_TTL: `${ACCESS_TTL_SECS}s`,
    AUTHJAR_LOG: 'info',
    ...(t.api === 'http://localhost:8000' && t.app === 'http://localhost:3000' ? {} : { AUTHJAR_PUBLIC_URL: t.api, AUTHJAR_APP_ORIGINS: t.app }),
    ...(https ? { AUTHJAR_SECRET: SECRET } : {}),
    ...(https && !t.proxy ? { AUTHJAR_TLS_CERT: certs.cert, AUTHJAR_TLS_KEY: certs.key } : {}),
    ...(t.proxy ? { AUTHJAR_TRUSTED_PROXIES: '127.0.0.1' } : {}),
    // The topology flows log in right after signing up; e2e/tests/accounts.test.js covers verification.
    AUTHJAR_REQUIRE_VERIFIED_EMAIL: 'false',
    ...(t.env || {}),
  };
  if (!t.proxy) {
    const hub = await startHub(env, `127.0.0.1:${appPort}`);
    return { hub, apiPort, appPort, stops: [hub.stop] };
  }
  const hub = await startHub(env);
  try {
    const nginx = await startNginx({
      port: appPort, serverName: new URL(t.app).hostname, root: join(ROOT, 'examples', 'cat-therapist-hub', 'web'),
      upstream: `http://127.0.0.1:${apiPort}`, cert: certs.cert, key: certs.key, api: t.api,
    });
    return { hub, apiPort, appPort, stops: [hub.stop, nginx.stop] };
  } catch (e) {
    await hub.stop();
    throw e;
  }
}

/**
 * Starts a topology: { name, api, app, proxy, env } where `api` is
 * public_url and `app` the app origin; https names map to local ports.
 * `engine` is the browser: 'chromium' (the default) or 'firefox'.
 */
export async function startTopology(t, certs, home, { engine = 'chromium' } = {}) {
  const https = t.api.startsWith('https:');
  const stops = [];
  const stop = async () => { for (const s of stops.reverse()) await s(); };
  try {
    // The attacker's site listens from the start (on a port of its own), so
    // the browser's name mapping can point at it; attacks() sets its page.
    let evil;
    if (https) {
      evil = await startEvil(certs);
      stops.push(evil.stop);
    }
    // Plain-http topologies use the real ports of their URLs (no name mapping
    // on http); https ones map their names' port 443 to free local ports,
    // which the demo and nginx must be told: see onFreePorts.
    const { hub, apiPort, appPort, stops: serverStops } = https
      ? await onFreePorts(2, ([apiPort, appPort]) => startServers(t, certs, { apiPort, appPort, https }))
      : await startServers(t, certs, { apiPort: Number(new URL(t.api).port), appPort: Number(new URL(t.app).port), https });
    stops.push(...serverStops);
    const rules = [];
    if (https) {
      rules.push(`MAP ${new URL(t.app).hostname}:443 127.0.0.1:${appPort}`);
      if (!t.proxy) rules.push(`MAP ${new URL(t.api).hostname}:443 127.0.0.1:${apiPort}`);
      rules.push(`MAP evil.test:443 127.0.0.1:${evil.port}`);
    }
    const appUrl = t.app;
    const browserOptions = { hostRules: rules.length ? rules.join(', ') : undefined, home: https ? home : undefined, certs: https ? certs : undefined };
    const browser = await launchEngine(engine, browserOptions);
    stops.push(browser.close);
    return {
      ...t, hub, browser, appUrl, evil, https, apiPort, appPort, certs, engine,
      /** A second, separate browser (another person) with the same name mapping; the caller closes it. */
      launchOther: () => launchEngine(engine, browserOptions),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

export async function openApp(env) {
  const page = await env.browser.context.newPage();
  await page.goto(`${env.appUrl}/`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
  return page;
}

async function signUp(page, email) {
  await page.fill('#signup-form input[name=name]', 'Tom');
  await page.fill('#signup-form input[name=email]', email);
  await page.fill('#signup-form input[name=password]', 'correct horse battery');
  await page.click('#signup-form button');
}

async function loggedIn(page) {
  return page.evaluate(() => !document.getElementById('logged-in').classList.contains('hidden'));
}

/** The API host's cookies in the jar. */
async function apiCookies(env, page) {
  const host = new URL(env.api).hostname;
  return (await jarCookies(env.browser.context, page)).filter((c) => c.domain === host || host.endsWith(`.${c.domain}`));
}

/** Every flow of a working topology; returns what the attacks need. */
export async function flows(env) {
  const { context } = env.browser;
  const page = await openApp(env);
  if (env.https) assert.equal(await page.evaluate(() => window.isSecureContext), true, 'https page is a secure context');
  assert.equal(await loggedIn(page), false);

  // Sign up, book a session.
  await signUp(page, `tom-${env.name}@cat.test`);
  await page.waitForFunction(() => document.getElementById('whoami').textContent === 'Tom');
  await page.fill('#booking-form input[name=therapist]', 'Dr. Purr');
  await page.fill('#booking-form input[name=cat]', 'Mittens');
  await page.click('#booking-form button');
  await page.waitForSelector('#bookings li');
  const bookingId = await page.getAttribute('#bookings li', 'data-id');

  // The cookies in the jar are exactly the banner's table.
  const promised = bannerCookies(env.hub.banner);
  const jar = await apiCookies(env, page);
  for (const name of ['access_token', 'refresh_token']) {
    assert.ok(jar.some((c) => c.name.endsWith(name)), `${name} is in the jar: ${JSON.stringify(jar.map((c) => c.name))}`);
  }
  for (const cookie of jar) {
    const row = promised.find((r) => r.name === cookie.name);
    assert.ok(row, `${cookie.name} is in the banner's table`);
    const { value, ...seen } = cookie;
    assert.deepEqual(seen, { ...row }, `${cookie.name}: jar vs banner`);
    assert.ok(value.length > 0);
  }

  // Reload keeps the session.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await loggedIn(page), true, 'reload keeps the session');

  // After access_ttl the next protected call refreshes silently.
  await outliveAccessToken();
  const refreshes = record(context, '/auth/refresh');
  await page.evaluate(() => window.hub.loadBookings());
  refreshes.stop();
  assert.equal(refreshes.seen.length, 1, 'one silent refresh');
  assert.equal(await page.locator('#bookings li').count(), 1);
  const sessionId = (await page.evaluate(() => window.hub.auth.me())).session.id;

  // Two tabs hitting an expired token at once: one refresh, both stay in.
  const second = await openApp(env);
  await outliveAccessToken();
  const both = record(context, '/auth/refresh');
  await Promise.all([page.evaluate(() => window.hub.loadBookings()), second.evaluate(() => window.hub.loadBookings())]);
  both.stop();
  // In both engines: the stamp of the tab that refreshed is read from the
  // Web Locks manager, not only localStorage (which another content process
  // may see stale for a moment: measured in Firefox, 5 stale reads in 20).
  assert.equal(both.seen.length, 1, `refreshes for two tabs: ${both.seen.length}`);
  assert.equal(await loggedIn(page), true);
  assert.equal(await loggedIn(second), true);
  await second.close();

  // The first writes after the access token expired: each refreshes once,
  // is sent at most twice, and succeeds (a POST and a DELETE to the app's own API).
  for (const write of ['POST', 'DELETE']) {
    const extra = write === 'POST' ? null : await page.evaluate(async (api) => {
      const r = await window.hub.auth.authFetch(`${api}/api/bookings`, { method: 'POST', body: JSON.stringify({ therapist: 'Dr. Whiskers', cat: 'Tom' }) });
      return (await r.json()).id;
    }, env.api);
    await outliveAccessToken();
    const refreshed = record(context, '/auth/refresh');
    const sent = [];
    const onRequest = (req) => { if (req.method() === write && new URL(req.url()).pathname.includes('/api/bookings')) sent.push(req); };
    context.on('request', onRequest);
    const status = await page.evaluate(async ({ api, write, extra }) => {
      const url = write === 'POST' ? `${api}/api/bookings` : `${api}/api/bookings/${extra}`;
      const body = write === 'POST' ? JSON.stringify({ therapist: 'Dr. Whiskers', cat: 'Felix' }) : undefined;
      return (await window.hub.auth.authFetch(url, { method: write, body })).status;
    }, { api: env.api, write, extra });
    context.off('request', onRequest);
    refreshed.stop();
    assert.equal(status, write === 'POST' ? 201 : 204, `${write} after expiry`);
    assert.equal(refreshed.seen.length, 1, `${write} after expiry: exactly one refresh`);
    assert.ok(sent.length <= 2, `${write} sent ${sent.length} times`);
  }
  await page.evaluate(async (api) => {
    const list = await (await window.hub.auth.authFetch(`${api}/api/bookings`)).json();
    for (const b of list.filter((x) => x.cat === 'Felix')) await window.hub.auth.authFetch(`${api}/api/bookings/${b.id}`, { method: 'DELETE' });
  }, env.api);
  await page.evaluate(() => window.hub.loadBookings());
  assert.equal(await page.locator('#bookings li').count(), 1);

  // The doctor audits the same deployment from outside and finds no error.
  const report = doctor(env, `tom-${env.name}@cat.test`, 'correct horse battery');
  const errors = report.findings.filter((f) => f.severity === 'error');
  assert.deepEqual(errors, [], `authjar doctor on ${env.name}: ${JSON.stringify(report.findings, null, 1)}`);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, env.engine === 'firefox' ? `${env.name}-firefox.png` : `${env.name}.png`) });
  return { page, bookingId, sessionId };
}

/** The refusals authjar logged (JSON log lines in production). */
export function refusals(hub) {
  // Whole lines only: the last one may still be arriving.
  return hub.stderr().split('\n').slice(0, -1).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
    .filter((e) => e.fields && e.fields.message === 'request refused')
    .map((e) => ({ code: e.fields.code, method: e.fields.method, path: e.fields.path, origin: e.fields.origin }));
}

/** Attacks from https://evil.test; afterwards nothing has changed and every unsafe attempt was refused. */
export async function attacks(env, { page, bookingId, sessionId }) {
  const base = new URL(env.api).pathname.replace(/\/$/, '');
  const paths = [`${base}/auth/logout`, `${base}/auth/sessions/${sessionId}`, `${base}/api/bookings/${bookingId}`];
  const fromEvil = () => refusals(env.hub).filter((r) => r.origin === 'https://evil.test');
  // What the attack page sends: to each target a text/plain POST and a JSON
  // preflight, and a form POST to logout last (it leaves the page).
  const missing = () => {
    const seen = fromEvil();
    const count = (path, method) => seen.filter((r) => r.path === path && r.method === method).length;
    return [
      ...paths.flatMap((path) => [
        ...(count(path, 'POST') >= 1 ? [] : [`POST ${path}`]),
        ...(count(path, 'OPTIONS') >= 1 ? [] : [`OPTIONS ${path}`]),
      ]),
      ...(count(paths[0], 'POST') >= 2 ? [] : [`the form POST to ${paths[0]}`]),
    ];
  };
  env.evil.show(() => attackPage(env.api, { bookingId, sessionId }));
  const attacker = await env.browser.context.newPage();
  try {
    await attacker.goto('https://evil.test/');
    // Done when authjar has logged the refusal of every attempt.
    await waitFor(() => missing().length === 0, () => `refusals of the attacks never logged: ${missing().join(', ')}; logged: ${JSON.stringify(fromEvil())}`);
  } finally {
    await attacker.close();
  }
  // Nothing changed: still logged in, booking still there.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await loggedIn(page), true, 'the victim is still logged in');
  const ids = await page.locator('#bookings li').evaluateAll((lis) => lis.map((li) => li.dataset.id));
  assert.deepEqual(ids, [bookingId], 'the booking was not cancelled');
  // Every unsafe attempt was refused with the reason code.
  const seen = fromEvil();
  for (const path of paths) {
    const text = seen.filter((r) => r.path === path && r.method === 'POST');
    const preflight = seen.filter((r) => r.path === path && r.method === 'OPTIONS');
    assert.ok(text.length >= 1 && text.every((r) => r.code === 'origin_not_allowed'), `text/plain or form POST to ${path}: ${JSON.stringify(seen)}`);
    assert.ok(preflight.length >= 1 && preflight.every((r) => r.code === 'origin_not_allowed'), `JSON preflight to ${path}: ${JSON.stringify(seen)}`);
  }
  const formPosts = seen.filter((r) => r.path === paths[0] && r.method === 'POST');
  assert.ok(formPosts.length >= 2, 'the text/plain fetch and the form POST to logout were both refused');
}

/** Log out: every authjar cookie leaves the jar, and a protected call is refused. */
export async function logoutFlow(env, page) {
  await page.click('#logout');
  await page.waitForFunction(() => !document.getElementById('logged-out').classList.contains('hidden'));
  const left = await apiCookies(env, page);
  assert.deepEqual(left.map((c) => c.name), [], 'logout clears every cookie');
  const status = await page.evaluate(async (api) => (await fetch(`${api}/api/bookings`, { credentials: 'include' })).status, env.api);
  assert.equal(status, 401, 'a protected call after logout');
}

/** `authjar doctor --json` against the topology, names mapped to its local ports. */
export function doctor(env, email, password) {
  const args = ['doctor', '--api', env.api, '--app', env.app, '--email', email, '--json'];
  if (env.https) {
    args.push('--ca-file', env.certs.ca);
    const apiHost = new URL(env.api).hostname;
    const appHost = new URL(env.app).hostname;
    args.push('--resolve', `${appHost}:443:127.0.0.1:${env.appPort}`);
    if (apiHost !== appHost) args.push('--resolve', `${apiHost}:443:127.0.0.1:${env.proxy ? env.appPort : env.apiPort}`);
  }
  let out;
  try {
    out = execFileSync(AUTHJAR_BIN, args, { env: { PATH: process.env.PATH, AUTHJAR_DOCTOR_PASSWORD: password }, timeout: 60000 });
  } catch (e) {
    if (e.status !== 1) throw new Error(`authjar doctor exited ${e.status}: ${e.stderr}\n${e.stdout}`);
    out = e.stdout;
  }
  return JSON.parse(out.toString());
}
