// Social login against a real OpenID Provider (oidc-provider) on loopback,
// in the development, sibling-subdomain and unrelated-sites topologies:
// click "Log in with …" on the demo → provider → back → logged in, /auth/me
// shows the user, reload keeps the session.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTopology, openApp } from '../lib/topology.js';
import { startOp, signInAtOp, CLIENT_ID, CLIENT_SECRET } from '../lib/op.js';
import { sharedCerts } from '../lib/util.js';

const tls = sharedCerts();

async function socialLogin(t, login) {
  const op = await startOp([`${t.api}/auth/oauth/testop/callback`]);
  const env = await startTopology({
    ...t,
    env: {
      AUTHJAR_OAUTH__TESTOP__ISSUER: op.issuer,
      AUTHJAR_OAUTH__TESTOP__NAME: 'Test OP',
      AUTHJAR_OAUTH__TESTOP__CLIENT_ID: CLIENT_ID,
      AUTHJAR_OAUTH__TESTOP__CLIENT_SECRET: CLIENT_SECRET,
    },
  }, tls.certs, tls.home);
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

test('a hand-off code an attacker got for their own account does not log a victim in (unrelated sites)', async () => {
  const t = { name: 'oauth-login-csrf', api: 'https://hub-api.test', app: 'https://hub.test' };
  const op = await startOp([`${t.api}/auth/oauth/testop/callback`]);
  const env = await startTopology({
    ...t,
    env: {
      AUTHJAR_OAUTH__TESTOP__ISSUER: op.issuer,
      AUTHJAR_OAUTH__TESTOP__NAME: 'Test OP',
      AUTHJAR_OAUTH__TESTOP__CLIENT_ID: CLIENT_ID,
      AUTHJAR_OAUTH__TESTOP__CLIENT_SECRET: CLIENT_SECRET,
    },
  }, tls.certs, tls.home);
  const attacker = await env.launchOther();
  try {
    // The attacker logs in with their own provider account, binding the
    // login to a verifier of their own, and stops before the app redeems the code.
    const verifier = 'attacker-verifier-0123456789abcdef0123456789';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    await attacker.context.route('**/auth/client.js', (r) => r.abort());
    const page = await attacker.context.newPage();
    await page.goto(`${t.api}/auth/oauth/testop/start?return_to=${encodeURIComponent(`${t.app}/`)}&handoff_challenge=${challenge}`);
    await signInAtOp(page, 'mallory');
    await page.waitForURL((u) => u.origin === t.app, { timeout: 15000 });
    const code = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('auth_code');
    assert.ok(code, `the attacker holds a code: ${page.url()}`);

    // The victim is sent to the app with the attacker's code.
    const exchanges = [];
    const onRequest = (req) => { if (req.url().endsWith('/auth/oauth/exchange')) exchanges.push(req); };
    env.browser.context.on('request', onRequest);
    const victim = await env.browser.context.newPage();
    await victim.goto(`${t.app}/#auth_code=${code}`);
    await victim.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    env.browser.context.off('request', onRequest);
    assert.equal(await victim.evaluate(() => document.getElementById('logged-in').classList.contains('hidden')), true, 'the victim is not logged in');
    assert.equal(await victim.evaluate(() => window.hub.auth.me()), null);
    assert.match(await victim.textContent('#status'), /log in again/);
    assert.equal(exchanges.length, 0, 'a tab that did not start a login does not even try the code');
    assert.ok(!victim.url().includes('auth_code'), 'the code leaves the address bar');

    // A victim tab that started a login of its own holds a different verifier: the server refuses the code.
    await victim.evaluate((api) => sessionStorage.setItem(`authjar:handoff-verifier:${api}`, 'victim-verifier-0123456789abcdef0123456789'), t.api);
    const answers = [];
    const onResponse = (res) => { if (res.url().endsWith('/auth/oauth/exchange')) answers.push(res.status()); };
    env.browser.context.on('response', onResponse);
    await victim.goto(`${t.app}/?again=1#auth_code=${code}`);
    await victim.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    env.browser.context.off('response', onResponse);
    assert.deepEqual(answers, [400], 'the exchange is refused: the code belongs to another tab');
    assert.equal(await victim.evaluate(() => window.hub.auth.me()), null, 'still not logged in');
  } finally {
    await attacker.close();
    await env.stop();
    await op.stop();
  }
});
