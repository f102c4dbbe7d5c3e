// The browser client (/auth/client.js) in a real headless Chromium: the
// CSRF header is sent, a 401 triggers one refresh and a retry, and two tabs
// hitting an expired access token at once send exactly one refresh request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { listen, onFreePorts, serveStatic, startAuthjar, ROOT } from '../lib/servers.js';
import { launch } from '../lib/browser.js';
import { ACCESS_TTL_SECS, outliveAccessToken, record } from '../lib/util.js';

let api, app, authjar, web, browser;

before(async () => {
  // The pages' server listens first (on a free port): authjar is told its origin.
  web = await serveStatic(join(ROOT, 'e2e', 'pages'));
  app = `http://localhost:${web.port}`;
  // authjar must be told its port before it binds it (it is in public_url).
  authjar = await onFreePorts(1, ([apiPort]) => {
    api = `http://localhost:${apiPort}`;
    return startAuthjar({
      AUTHJAR_LISTEN: `127.0.0.1:${apiPort}`,
      AUTHJAR_PUBLIC_URL: api,
      AUTHJAR_APP_ORIGINS: app,
      AUTHJAR_ACCESS_TTL: `${ACCESS_TTL_SECS}s`,
    });
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await web?.stop();
  await authjar?.stop();
});

async function openPage() {
  const page = await browser.context.newPage();
  await page.goto(`${app}/client/?api=${encodeURIComponent(api)}`);
  await page.waitForFunction(() => window.auth !== undefined);
  return page;
}

test('register sends the CSRF header and lands a session', async () => {
  const page = await openPage();
  const posts = record(browser.context, '/auth/register');
  const user = await page.evaluate(() => window.auth.register({ email: 'tab@cat.test', password: 'correct horse' }));
  posts.stop();
  assert.equal(user.email, 'tab@cat.test');
  assert.equal(posts.seen.length, 1);
  const headers = await posts.seen[0].allHeaders();
  assert.match(headers['x-csrf-token'] ?? '', /^[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.equal(headers['content-type'], 'application/json');
  const me = await page.evaluate(() => window.auth.me());
  assert.equal(me.user.email, 'tab@cat.test');
  await page.close();
});

test('a 401 on an expired access token runs one refresh and retries', async () => {
  const page = await openPage();
  await page.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  await outliveAccessToken();
  const refreshes = record(browser.context, '/auth/refresh');
  const mes = record(browser.context, '/auth/me');
  const status = await page.evaluate(async (api) => (await window.auth.authFetch(`${api}/auth/me`)).status, api);
  refreshes.stop();
  mes.stop();
  assert.equal(status, 200);
  assert.equal(refreshes.seen.length, 1, 'one refresh');
  assert.equal(mes.seen.length, 2, 'the 401 and the retry');
  const refreshHeaders = await refreshes.seen[0].allHeaders();
  assert.ok(refreshHeaders['x-csrf-token'], 'the refresh carries the CSRF header');
  await page.close();
});

test('two tabs hitting 401 at once send exactly one refresh and both stay logged in', async () => {
  const [a, b] = [await openPage(), await openPage()];
  await a.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  // Tab b knows the session only through the shared cookies.
  await outliveAccessToken();
  const refreshes = record(browser.context, '/auth/refresh');
  const call = (page) => page.evaluate(async (api) => (await window.auth.authFetch(`${api}/auth/me`)).status, api);
  const [sa, sb] = await Promise.all([call(a), call(b)]);
  refreshes.stop();
  assert.deepEqual([sa, sb], [200, 200]);
  assert.equal(refreshes.seen.length, 1, `refresh requests: ${refreshes.seen.length}`);
  const again = await Promise.all([call(a), call(b)]);
  assert.deepEqual(again, [200, 200], 'both tabs stay logged in');
  await a.close();
  await b.close();
});

test('logout ends the session for every tab', async () => {
  const page = await openPage();
  await page.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  await page.evaluate(() => window.auth.logout());
  const me = await page.evaluate(() => window.auth.me());
  assert.equal(me, null);
  const cookies = await browser.context.cookies(api);
  assert.deepEqual(cookies.map((c) => c.name).filter((n) => n !== 'pre_session' && n !== 'csrf_token'), []);
  await page.close();
});

/**
 * A small API of the test's own on another origin: every request is
 * recorded; `/401` always answers 401, `/csrf` always refuses the CSRF
 * token. It allows credentialed CORS from the test page's origin.
 */
async function startOther() {
  const { createServer } = await import('node:http');
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, path: req.url, headers: req.headers });
    const cors = {
      'access-control-allow-origin': app,
      'access-control-allow-credentials': 'true',
      'access-control-allow-headers': 'content-type, x-csrf-token',
      'access-control-allow-methods': 'GET, POST, DELETE',
    };
    if (req.method === 'OPTIONS') { res.writeHead(204, cors).end(); return; }
    const json = { ...cors, 'content-type': 'application/json' };
    if (req.url.startsWith('/csrf')) { res.writeHead(403, json).end('{"error":"csrf_token_invalid"}'); return; }
    res.writeHead(401, json).end('{"error":"unauthenticated"}');
  });
  const port = await listen(server);
  return {
    origin: `http://localhost:${port}`,
    seen,
    stop: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }),
  };
}

test('authFetch sends neither cookies nor the CSRF token to an origin it was not told about, and does not refresh on its 401', async () => {
  const other = await startOther();
  const page = await openPage();
  await page.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  const refreshes = record(browser.context, '/auth/refresh');
  const statuses = await page.evaluate(async (o) => [
    (await window.auth.authFetch(`${o}/401`)).status,
    (await window.auth.authFetch(`${o}/401`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status,
  ], other.origin);
  refreshes.stop();
  assert.deepEqual(statuses, [401, 401]);
  assert.equal(refreshes.seen.length, 0, 'a 401 from somewhere else is not authjar\'s');
  for (const r of other.seen.filter((r) => r.method !== 'OPTIONS')) {
    assert.equal(r.headers['x-csrf-token'], undefined, `${r.method} ${r.path} carried the CSRF token`);
    assert.equal(r.headers.cookie, undefined, `${r.method} ${r.path} carried cookies`);
  }
  await page.close();
  await other.stop();
});

test('a configured API that keeps answering 401 gets one refresh, then the client reports logged out instead of looping', async () => {
  const other = await startOther();
  const page = await openPage();
  await page.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  const refreshes = record(browser.context, '/auth/refresh');
  const result = await page.evaluate(async (o) => {
    window.auth.configure({ apiOrigins: [o] });
    const events = [];
    // A page that reacts to every auth event by calling its API again.
    window.auth.onAuthChange((e) => { events.push(e); window.auth.authFetch(`${o}/401`); });
    const first = (await window.auth.authFetch(`${o}/401`)).status;
    await new Promise((ok) => setTimeout(ok, 3000));
    return { first, events };
  }, other.origin);
  refreshes.stop();
  assert.equal(result.first, 401);
  assert.equal(refreshes.seen.length, 1, `refreshes: ${refreshes.seen.length}`);
  assert.ok(result.events.includes('logout'), JSON.stringify(result.events));
  await page.close();
  await other.stop();
});

test('an unsafe request is never sent more than twice', async () => {
  const other = await startOther();
  const page = await openPage();
  await page.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  await page.evaluate(async (o) => {
    window.auth.configure({ apiOrigins: [o] });
    await window.auth.authFetch(`${o}/csrf`, { method: 'POST', body: '{}' });
    await window.auth.login({ email: 'tab@cat.test', password: 'correct horse' });
    await window.auth.authFetch(`${o}/401`, { method: 'DELETE' });
  }, other.origin);
  const posts = other.seen.filter((r) => r.method === 'POST');
  const deletes = other.seen.filter((r) => r.method === 'DELETE');
  assert.equal(posts.length, 2, 'a CSRF refusal: one retry with a fresh token');
  assert.equal(deletes.length, 2, 'a 401: one retry after the refresh');
  await page.close();
  await other.stop();
});

test('a refresh stamp from the future does not disable refresh', async () => {
  const page = await openPage();
  await page.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  await page.evaluate((api) => {
    for (const key of [`authjar:refreshed-at:${api}`, 'authjar:refreshed-at']) localStorage.setItem(key, String(Date.now() + 1e9));
  }, api);
  await outliveAccessToken();
  const refreshes = record(browser.context, '/auth/refresh');
  const status = await page.evaluate(async (api) => (await window.auth.authFetch(`${api}/auth/me`)).status, api);
  refreshes.stop();
  assert.equal(status, 200);
  assert.equal(refreshes.seen.length, 1);
  await page.close();
});

test('logout and login in one tab reach the other tabs', async () => {
  const [a, b] = [await openPage(), await openPage()];
  await a.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  await b.evaluate(() => { window.events = []; window.auth.onAuthChange((e) => window.events.push(e)); });
  await a.evaluate(() => window.auth.logout());
  await b.waitForFunction(() => window.events.includes('logout'), null, { timeout: 5000 });
  await a.evaluate(() => window.auth.login({ email: 'tab@cat.test', password: 'correct horse' }));
  await b.waitForFunction(() => window.events.includes('login'), null, { timeout: 5000 });
  // Tab b saw a logout, then the login elsewhere: it refreshes again when its token expires.
  await outliveAccessToken();
  const refreshes = record(browser.context, '/auth/refresh');
  const status = await b.evaluate(async (api) => (await window.auth.authFetch(`${api}/auth/me`)).status, api);
  refreshes.stop();
  assert.equal(status, 200);
  assert.equal(refreshes.seen.length, 1);
  await a.close();
  await b.close();
});

test('a tab never adopts a session it did not log into (a planted refresh cookie)', async () => {
  const page = await openPage();
  await page.evaluate(() => window.auth.register({ email: 'victim@cat.test', password: 'correct horse' }).catch(() => window.auth.login({ email: 'victim@cat.test', password: 'correct horse' })));
  // The attacker's own session, obtained outside the browser.
  const pre = await fetch(`${api}/auth/csrf`);
  const preCookie = pre.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const token = (await pre.json()).csrf_token;
  const reg = await fetch(`${api}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': token, cookie: preCookie },
    body: JSON.stringify({ email: `attacker-${Date.now()}@cat.test`, password: 'correct horse' }),
  });
  assert.equal(reg.status, 201);
  const attackerRefresh = reg.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c.startsWith('refresh_token='));
  // Plant it in the victim's jar, as a sibling host could with Domain=, and drop the access cookie.
  const host = new URL(api).hostname;
  await browser.context.clearCookies({ name: 'access_token' });
  await browser.context.addCookies([{ name: 'refresh_token', value: attackerRefresh.split('=')[1], domain: host, path: '/', httpOnly: true, sameSite: 'Lax' }]);
  const result = await page.evaluate(async () => {
    const events = [];
    window.auth.onAuthChange((e) => events.push(e));
    return { me: await window.auth.me(), events };
  });
  assert.equal(result.me, null, 'the tab did not switch to the attacker\'s account');
  assert.ok(result.events.includes('logout'), JSON.stringify(result.events));
  await page.close();
});
