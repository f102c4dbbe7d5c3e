// The classic mistake met by the demo itself, and `GET /auth/debug`, in
// Chromium: the demo on its default ports (authjar on localhost:8000, the
// app's pages on 127.0.0.1:3000 whose allowed origin is
// http://localhost:3000). Opened at http://127.0.0.1:3000 the page explains
// itself instead of staying blank; the diagnostics page names the mistake
// and the fix, and shows the logged-out and logged-in states.
//
// Screenshots of the three states go to e2e/artifacts/; with
// AUTHJAR_UPDATE_SCREENSHOTS=1 they replace the ones in docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startHub, ROOT } from '../lib/servers.js';
import { launch } from '../lib/browser.js';

const API = 'http://localhost:8000';
const SHOTS = process.env.AUTHJAR_UPDATE_SCREENSHOTS === '1'
  ? join(ROOT, 'docs', 'screenshots')
  : join(ROOT, 'e2e', 'artifacts');

let hub, browser;

before(async () => {
  // No configuration at all: the development topology of README's first command.
  hub = await startHub({}, '127.0.0.1:3000');
  browser = await launch();
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** The findings the debug page lists, by id. */
const findingIds = (page) => page.$$eval('#findings li.finding', (els) => els.map((e) => e.dataset.finding));

test('the demo prints the address that works', () => {
  assert.match(hub.banner, /^app pages on http:\/\/localhost:3000$/m);
  assert.doesNotMatch(hub.banner, /app pages on http:\/\/127\.0\.0\.1/);
});

test('opened at http://127.0.0.1:3000 the demo explains the mistake on the page, and the debug page names it with the fix', async () => {
  const page = await browser.context.newPage();
  const client = page.waitForResponse((r) => r.url() === `${API}/auth/client.js`);
  await page.goto('http://127.0.0.1:3000/');
  const js = await client;
  assert.equal(js.status(), 200, 'the client loads from any origin');
  const headers = await js.allHeaders();
  assert.equal(headers['access-control-allow-origin'], '*');
  assert.equal(headers['access-control-allow-credentials'], undefined);
  await page.waitForSelector('body[data-problem="page_origin_not_allowed"]', { timeout: 15000 });
  assert.ok(await page.isVisible('#problem'), 'the explanation is on the page');
  const text = await page.textContent('#problem-text');
  assert.match(text, /This page's origin http:\/\/127\.0\.0\.1:3000 is not an allowed app origin/);
  assert.match(text, /allowed: http:\/\/localhost:3000/);
  assert.match(text, /open the app at http:\/\/localhost:3000 instead/);
  assert.ok(text.includes(`${API}/auth/debug?from=http%3A%2F%2F127.0.0.1%3A3000`), text);
  await shot(page, 'demo-127-mistake');

  await Promise.all([page.waitForURL(`${API}/auth/debug**`), page.click('#problem-debug')]);
  const ids = await findingIds(page);
  assert.ok(ids.includes('localhost-vs-127-mixed'), `findings: ${ids}`);
  assert.ok(ids.includes('cors-origin-not-echoed'), `findings: ${ids}`);
  assert.match(await page.textContent('#verdict'), /problems? stops? this browser from logging in/);
  const body = await page.textContent('body');
  assert.match(body, /Open the app at http:\/\/localhost:3000, not http:\/\/127\.0\.0\.1:3000/);
  assert.match(body, /NOT an allowed app origin/);
  await shot(page, 'debug-127-mistake');
  await page.close();
});

test('the debug page in the development topology: logged out, then logged in', async () => {
  const page = await browser.context.newPage();
  await page.goto('http://localhost:3000/');
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
  assert.equal(await page.getAttribute('body', 'data-problem'), null, 'the allowed origin has no problem');
  const debugUrl = await page.evaluate(() => window.hub.auth.debugUrl);
  assert.equal(debugUrl, `${API}/auth/debug?from=http%3A%2F%2Flocalhost%3A3000`);

  await page.goto(debugUrl);
  const errors = await page.$$eval('#findings li.finding.error', (els) => els.map((e) => e.dataset.finding));
  assert.deepEqual(errors, [], 'no problem in the development topology');
  assert.match(await page.textContent('#verdict'), /No problem found/);
  assert.match(await page.textContent('#signs'), /No session cookie arrived/);
  assert.equal(await page.getAttribute('tr[data-cookie="access_token"]', 'data-arrived'), '0');
  await shot(page, 'debug-logged-out');

  await page.goto('http://localhost:3000/');
  await page.waitForSelector('body[data-ready="true"]');
  await page.fill('#signup-form input[name=email]', 'debug@cat.test');
  await page.fill('#signup-form input[name=password]', 'correct horse battery');
  await page.click('#signup-form button');
  await page.waitForSelector('#logged-in:not(.hidden)', { timeout: 15000 });

  // The link from the app, as a developer would follow it.
  await page.goto(debugUrl, { referer: 'http://localhost:3000/' });
  assert.match(await page.textContent('#signs'), /logged in here/);
  assert.equal(await page.getAttribute('tr[data-cookie="access_token"]', 'data-arrived'), '1');
  assert.equal(await page.getAttribute('tr[data-cookie="refresh_token"]', 'data-arrived'), '1');
  const html = await page.content();
  const values = (await browser.context.cookies(API)).map((c) => c.value).filter((v) => v.length > 8);
  assert.ok(values.length >= 2);
  for (const v of values) assert.ok(!html.includes(v), 'no cookie value on the page');
  assert.ok(!html.includes('debug@cat.test'), 'no user data on the page');
  await shot(page, 'debug-logged-in');
  await page.close();
});
