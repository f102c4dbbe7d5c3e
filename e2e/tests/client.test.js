// The browser client (/auth/client.js) in a real headless Chromium: the
// CSRF header is sent, a 401 triggers one refresh and a retry, and two tabs
// hitting an expired access token at once send exactly one refresh request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { freePort, serveStatic, startAuthjar, ROOT } from '../lib/servers.js';
import { launch } from '../lib/browser.js';

const ACCESS_TTL_SECS = 2;
let api, app, authjar, web, browser;

before(async () => {
  const [apiPort, appPort] = [await freePort(), await freePort()];
  api = `http://localhost:${apiPort}`;
  app = `http://localhost:${appPort}`;
  authjar = await startAuthjar({
    AUTHJAR_LISTEN: `127.0.0.1:${apiPort}`,
    AUTHJAR_PUBLIC_URL: api,
    AUTHJAR_APP_ORIGINS: app,
    AUTHJAR_ACCESS_TTL: `${ACCESS_TTL_SECS}s`,
  });
  web = await serveStatic(join(ROOT, 'e2e', 'pages'), appPort);
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

function record(context, pathEnd) {
  const seen = [];
  const listener = (req) => { if (new URL(req.url()).pathname.endsWith(pathEnd)) seen.push(req); };
  context.on('request', listener);
  return { seen, stop: () => context.off('request', listener) };
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

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
  await sleep(ACCESS_TTL_SECS * 1000 + 300);
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
  await sleep(ACCESS_TTL_SECS * 1000 + 300);
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
