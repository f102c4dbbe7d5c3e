// Social login against a real OpenID Provider (oidc-provider) on loopback,
// in the development, sibling-subdomain and unrelated-sites topologies:
// click "Log in with …" on the demo → provider → back → logged in, /auth/me
// shows the user, reload keeps the session.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { devCerts, trustingHome } from '../lib/tls.js';
import { freePort } from '../lib/servers.js';
import { startTopology, openApp } from '../lib/topology.js';
import { startOp, signInAtOp, CLIENT_ID, CLIENT_SECRET } from '../lib/op.js';

let certs, home;

before(() => {
  certs = devCerts(['hub.test', 'app.hub.test', 'api.hub.test', 'hub-api.test', 'evil.test']);
  home = trustingHome(certs.ca);
});

async function socialLogin(t, login) {
  const opPort = await freePort();
  const op = await startOp(opPort, [`${t.api}/auth/oauth/testop/callback`]);
  const env = await startTopology({
    ...t,
    env: {
      AUTHJAR_OAUTH__TESTOP__ISSUER: op.issuer,
      AUTHJAR_OAUTH__TESTOP__NAME: 'Test OP',
      AUTHJAR_OAUTH__TESTOP__CLIENT_ID: CLIENT_ID,
      AUTHJAR_OAUTH__TESTOP__CLIENT_SECRET: CLIENT_SECRET,
    },
  }, certs, home);
  try {
    const page = await openApp(env);
    await page.click('a.social-login');
    await signInAtOp(page, login);
    await page.waitForURL((u) => u.origin === new URL(t.app).origin, { timeout: 15000 });
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => !document.getElementById('logged-in').classList.contains('hidden'), null, { timeout: 10000 });
    const me = await page.evaluate(() => window.hub.auth.me());
    assert.equal(me.user.email, `${login}@op.test`);
    assert.equal(me.user.name, `Op ${login}`);
    assert.ok(!page.url().includes('auth_code'), 'the one-time code leaves the address bar');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    const again = await page.evaluate(() => window.hub.auth.me());
    assert.equal(again?.user.email, `${login}@op.test`, 'reload keeps the session');
    return { env, status: await page.textContent('#status') };
  } finally {
    await env.stop();
    await op.stop();
  }
}

test('OIDC login in development (localhost ports)', async () => {
  await socialLogin({ name: 'oauth-development', api: 'http://localhost:8000', app: 'http://localhost:3000' }, 'devuser');
});

test('OIDC login across sibling subdomains', async () => {
  await socialLogin({ name: 'oauth-sibling', api: 'https://api.hub.test', app: 'https://app.hub.test' }, 'sibling');
});

test('OIDC login across unrelated sites (one-time code hand-off)', async () => {
  await socialLogin({ name: 'oauth-unrelated', api: 'https://hub-api.test', app: 'https://hub.test' }, 'farfaraway');
});
