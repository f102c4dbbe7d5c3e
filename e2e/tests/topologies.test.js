// Every topology of the README ("Deploying") in a real Chromium (third-party
// cookies blocked, as Chromium's default profile ships) and then in a real
// Firefox ESR (its defaults: Total Cookie Protection, no Lax-by-default):
// the demo marketplace's flows, the attacks from https://evil.test, and the
// post's classic localhost/127.0.0.1 mistake. Each engine starts its own
// servers; one runs after the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { AUTHJAR_BIN } from '../lib/servers.js';
import { ENGINES } from '../lib/browser.js';
import { jarCookies } from '../lib/banner.js';
import { startTopology, flows, attacks, logoutFlow, openApp } from '../lib/topology.js';
import { sharedCerts } from '../lib/util.js';

const tls = sharedCerts();

async function run(t, { attack, engine }) {
  const env = await startTopology(t, tls.certs, tls.home, { engine });
  try {
    const state = await flows(env);
    if (attack) await attacks(env, state);
    await logoutFlow(env, state.page);
    return env;
  } finally {
    await env.stop();
  }
}

for (const engine of ENGINES) {
  // Chromium's tests keep their names; Firefox's are marked.
  const title = (name) => (engine === 'chromium' ? name : `${name} [firefox]`);

  test(title('1. development: localhost:3000 → localhost:8000, no configuration'), async () => {
    const env = await run({ name: 'development', api: 'http://localhost:8000', app: 'http://localhost:3000' }, { attack: false, engine });
    assert.match(env.hub.banner, /No problems found/);
  });

  test(title('2. same origin: https://hub.test behind nginx'), async () => {
    await run({ name: 'same-origin', api: 'https://hub.test', app: 'https://hub.test', proxy: true }, { attack: true, engine });
  });

  test(title('3. sibling subdomains: https://app.hub.test → https://api.hub.test'), async () => {
    await run({ name: 'sibling-subdomains', api: 'https://api.hub.test', app: 'https://app.hub.test' }, { attack: true, engine });
  });

  test(title('4. unrelated sites: https://hub.test → https://hub-api.test (partitioned cookies)'), async () => {
    const env = await run({ name: 'unrelated-sites', api: 'https://hub-api.test', app: 'https://hub.test' }, { attack: true, engine });
    assert.match(env.hub.banner, /cross-site-third-party-cookies/);
    assert.match(env.hub.banner, /Safari/, 'the banner warned about Safari');
  });

  test(title('5. the classic mistake: a page on 127.0.0.1 calling an API on localhost'), async () => {
    const t = { name: 'localhost-vs-127', api: 'http://localhost:8000', app: 'http://127.0.0.1:3000' };
    const env = await startTopology(t, tls.certs, tls.home, { engine });
    try {
      assert.match(env.hub.banner, /localhost-vs-127-mixed/);
      assert.match(env.hub.banner, /open the app at http:\/\/localhost:3000/);
      const page = await openApp(env);
      await page.fill('#signup-form input[name=email]', 'mistake@cat.test');
      await page.fill('#signup-form input[name=password]', 'correct horse battery');
      await page.click('#signup-form button');
      await page.waitForFunction(() => document.getElementById('status').textContent !== '');
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
      const loggedIn = await page.evaluate(() => !document.getElementById('logged-in').classList.contains('hidden'));
      assert.equal(loggedIn, false, 'the login does not stick');
      // Both engines refuse the development policy's SameSite=Lax session cookies across the two sites.
      const sessionCookies = (await jarCookies(env.browser.context, page)).filter((c) => /access_token|refresh_token/.test(c.name));
      assert.deepEqual(sessionCookies, [], 'no session cookie is stored');
    } finally {
      await env.stop();
    }
    let out = '';
    let code = 0;
    try {
      out = execFileSync(AUTHJAR_BIN, ['check'], { env: { PATH: process.env.PATH, AUTHJAR_APP_ORIGINS: 'http://127.0.0.1:3000' } }).toString();
    } catch (e) {
      code = e.status;
      out = e.stdout.toString();
    }
    assert.equal(code, 1);
    assert.match(out, /localhost-vs-127-mixed/);
    assert.match(out, /fix: Use the same host name on both sides: open the app at http:\/\/localhost:3000/);
  });
}
