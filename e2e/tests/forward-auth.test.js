// Forward-auth through real proxies: nginx `auth_request` and Caddy
// `forward_auth`, each configured with README's snippet (docs/proxies/),
// in front of a protected service of this test's own, asking the real
// authjar at /auth/verify.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listen, onFreePorts, startAuthjar, ROOT } from '../lib/servers.js';
import { SNIPPETS, startCaddyForwardAuth, startNginxForwardAuth } from '../lib/proxies.js';

/** One HTTP exchange on 127.0.0.1 with exactly the headers given (no jar, no redirects). */
function call(port, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(text); } catch { /* not JSON */ }
        ok({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.once('error', fail);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** `name=value` of each Set-Cookie, merged into `jar` (a Map). */
function keep(jar, res) {
  for (const line of res.headers['set-cookie'] ?? []) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const removed = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
    if (removed) jar.delete(name); else jar.set(name, pair.slice(eq + 1).trim());
  }
  return jar;
}

const cookieHeader = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');

let authjar, apiPort, upstream, upstreamPort;
const seen = [];
const proxies = {};
const ports = {};

before(async () => {
  // The protected service: records what reaches it, answers with the identity headers it got.
  upstream = createServer((req, res) => {
    const rawAuth = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (/^x-auth-/i.test(req.rawHeaders[i])) rawAuth.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
    }
    seen.push({ method: req.method, path: req.url, rawAuth });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ service: 'protected', method: req.method, path: req.url, auth: Object.fromEntries(rawAuth) }));
  });
  upstreamPort = await listen(upstream);
  // authjar and both proxies are told each other's ports before binding them.
  await onFreePorts(3, async ([api, nginxPort, caddyPort]) => {
    apiPort = api;
    ports.nginx = nginxPort;
    ports.caddy = caddyPort;
    authjar = await startAuthjar({
      AUTHJAR_LISTEN: `127.0.0.1:${api}`,
      AUTHJAR_PUBLIC_URL: `http://localhost:${api}`,
      AUTHJAR_APP_ORIGINS: `http://localhost:${nginxPort},http://localhost:${caddyPort}`,
    });
  });
  const addresses = { authjar: `127.0.0.1:${apiPort}`, upstream: `127.0.0.1:${upstreamPort}` };
  proxies.nginx = await startNginxForwardAuth({ port: ports.nginx, ...addresses });
  proxies.caddy = await startCaddyForwardAuth({ port: ports.caddy, ...addresses });
});

after(async () => {
  for (const p of Object.values(proxies)) await p.stop();
  await authjar?.stop();
  upstream?.close();
  upstream?.closeAllConnections();
});

/** A new account logged in through authjar directly, as an app page on `appOrigin` would. */
async function session(email, appOrigin) {
  const jar = new Map();
  const csrf = await call(apiPort, '/auth/csrf', { headers: { origin: appOrigin } });
  keep(jar, csrf);
  const body = JSON.stringify({ email, password: 'correct horse battery' });
  const res = await call(apiPort, '/auth/register', {
    method: 'POST',
    headers: { origin: appOrigin, 'content-type': 'application/json', 'x-csrf-token': csrf.json.csrf_token, cookie: cookieHeader(jar) },
    body,
  });
  assert.equal(res.status, 201, res.text);
  keep(jar, res);
  const me = await call(apiPort, '/auth/me', { headers: { cookie: cookieHeader(jar) } });
  assert.equal(me.status, 200, me.text);
  return { jar, csrf: res.json.csrf_token, user: me.json.user, sessionId: me.json.session.id };
}

const FORGED = { 'x-auth-user-id': 'forged-user', 'x-auth-email': 'forged@evil.test', 'x-auth-session-id': 'forged-session' };

test('README shows the proxy snippets the tests run, verbatim', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const [name, file] of Object.entries(SNIPPETS)) {
    assert.ok(readme.includes(readFileSync(file, 'utf8')), `README must contain ${file} (${name}) exactly`);
  }
});

for (const name of ['nginx', 'caddy']) {
  describe(`${name} forward-auth`, () => {
    const port = () => ports[name];
    const host = () => `localhost:${port()}`;
    const app = () => `http://localhost:${port()}`;

    test('without a session an API answers 401 and a page redirects to the login page; the service is not reached', async () => {
      const before = seen.length;
      const api = await call(port(), '/api/bookings', { headers: { host: host(), ...FORGED } });
      assert.equal(api.status, 401);
      const page = await call(port(), '/app/bookings?week=2', {
        headers: { host: host(), accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none' },
      });
      assert.equal(page.status, 302);
      assert.equal(page.headers.location.replace(/^https?:\/\/[^/]+/, ''), '/login?return_to=/app/bookings?week=2');
      assert.equal(seen.length, before, 'nothing reached the protected service');
    });

    test('with a session the service gets authjar\'s identity headers, never the client\'s forged copies', async () => {
      const s = await session(`fa-${name}@cat.test`, app());
      const before = seen.length;
      const res = await call(port(), '/api/bookings', { headers: { host: host(), cookie: cookieHeader(s.jar), ...FORGED } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.service, 'protected');
      const got = seen.slice(before);
      assert.equal(got.length, 1);
      assert.deepEqual(got[0].rawAuth.sort(), [
        ['x-auth-email', s.user.email],
        ['x-auth-session-id', s.sessionId],
        ['x-auth-user-id', s.user.id],
      ]);
      const page = await call(port(), '/app/', { headers: { host: host(), cookie: cookieHeader(s.jar), 'sec-fetch-mode': 'navigate', 'sec-fetch-site': 'same-origin' } });
      assert.equal(page.status, 200);
      assert.equal(page.json.auth['x-auth-user-id'], s.user.id);
    });

    test('an unsafe cross-site request through the proxy is refused; the same request from the app with its CSRF token passes', async () => {
      const s = await session(`fa-unsafe-${name}@cat.test`, app());
      const before = seen.length;
      const post = (headers) => call(port(), '/api/bookings', {
        method: 'POST',
        headers: { host: host(), cookie: cookieHeader(s.jar), 'content-type': 'application/json', ...headers },
        body: '{"cat":"Mittens"}',
      });
      const evil = await post({ origin: 'http://evil.test', 'sec-fetch-site': 'cross-site', 'x-csrf-token': s.csrf });
      assert.equal(evil.status, 403, 'a foreign Origin');
      const noOrigin = await post({ 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' });
      assert.equal(noOrigin.status, 403, 'cross-site by Fetch Metadata, no Origin');
      const noToken = await post({ origin: app(), 'sec-fetch-site': 'same-origin' });
      assert.equal(noToken.status, 403, 'the app\'s own origin without the CSRF token');
      assert.equal(seen.length, before, 'no refused request reached the service');
      const ok = await post({ origin: app(), 'sec-fetch-site': 'same-origin', 'x-csrf-token': s.csrf });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json.method, 'POST');
      assert.equal(ok.json.auth['x-auth-user-id'], s.user.id);
    });

    test('a revoked session is refused at once', async () => {
      const s = await session(`fa-revoke-${name}@cat.test`, app());
      const cookie = cookieHeader(s.jar);
      assert.equal((await call(port(), '/api/bookings', { headers: { host: host(), cookie } })).status, 200);
      const out = await call(apiPort, '/auth/logout', {
        method: 'POST',
        headers: { origin: app(), 'content-type': 'application/json', 'x-csrf-token': s.csrf, cookie },
        body: '{}',
      });
      assert.equal(out.status, 204, out.text);
      // The same cookies, replayed: the access token has not expired, the session has.
      const before = seen.length;
      assert.equal((await call(port(), '/api/bookings', { headers: { host: host(), cookie } })).status, 401);
      assert.equal(seen.length, before);
    });
  });
}
