// Two authjar instances on one PostgreSQL behind nginx (round robin), in
// the same-origin topology: the demo's whole flow in Chromium (sign up,
// reload, silent refreshes, two tabs, writes after expiry, the doctor,
// logout) works whichever instance answers each request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { launch } from '../lib/browser.js';
import { startNginx } from '../lib/nginx.js';
import { onFreePorts, startAuthjar, startHub, ROOT } from '../lib/servers.js';
import { flows, logoutFlow } from '../lib/topology.js';
import { ACCESS_TTL_SECS, sharedCerts } from '../lib/util.js';

const tls = sharedCerts();
const ADMIN = process.env.AUTHJAR_TEST_POSTGRES || 'postgres://postgres@127.0.0.1:5432/postgres';

/** A PostgreSQL database of this test's own; fails loudly without a server. */
function createDatabase() {
  const name = `authjar_e2e_${process.pid}_${Date.now()}`;
  try {
    execFileSync('psql', [ADMIN, '-qc', `CREATE DATABASE ${name}`], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`PostgreSQL is needed at ${ADMIN} (./scripts/test starts one): ${e.stderr || e.message}`);
  }
  const url = `${ADMIN.slice(0, ADMIN.lastIndexOf('/'))}/${name}`;
  return { url, drop: () => execFileSync('psql', [ADMIN, '-qc', `DROP DATABASE ${name} WITH (FORCE)`], { stdio: 'pipe' }) };
}

test('same origin behind nginx with two authjar instances on PostgreSQL (round robin)', async () => {
  const db = createDatabase();
  const stops = [db.drop];
  const t = { name: 'two-instances', api: 'https://hub.test', app: 'https://hub.test', proxy: true };
  try {
    const env = {
      AUTHJAR_PUBLIC_URL: t.api,
      AUTHJAR_APP_ORIGINS: t.app,
      AUTHJAR_SECRET: '0123456789abcdef0123456789abcdef-two-instances',
      AUTHJAR_DATABASE_URL: db.url,
      AUTHJAR_TRUSTED_PROXIES: '127.0.0.1',
      AUTHJAR_ACCESS_TTL: `${ACCESS_TTL_SECS}s`,
      AUTHJAR_REQUIRE_VERIFIED_EMAIL: 'false',
      AUTHJAR_LOG: 'info',
    };
    const { instances, hub, nginx, nginxPort, hubPort } = await onFreePorts(4, async ([a, b, hubPort, nginxPort]) => {
      const started = [];
      try {
        // The demo serves the bookings API (its /auth is not in the pool).
        const hub = await startHub({ ...env, AUTHJAR_LISTEN: `127.0.0.1:${hubPort}` });
        started.push(hub);
        const instances = [];
        for (const port of [a, b]) {
          const i = await startAuthjar({ ...env, AUTHJAR_LISTEN: `127.0.0.1:${port}` });
          started.push(i);
          instances.push({ ...i, port });
        }
        const nginx = await startNginx({
          port: nginxPort, serverName: 'hub.test', root: join(ROOT, 'examples', 'cat-therapist-hub', 'web'),
          upstream: `http://127.0.0.1:${hubPort}`, authUpstreams: [`127.0.0.1:${a}`, `127.0.0.1:${b}`],
          cert: tls.certs.cert, key: tls.certs.key, api: t.api,
        });
        started.push(nginx);
        return { instances, hub, nginx, nginxPort, hubPort };
      } catch (e) {
        for (const s of started.reverse()) await s.stop();
        throw e;
      }
    });
    stops.push(hub.stop, ...instances.map((i) => i.stop), nginx.stop);
    for (const i of instances) assert.match(i.banner, /PostgreSQL on 127\.0\.0\.1/, 'each instance names its shared store');

    const browser = await launch({ hostRules: `MAP hub.test:443 127.0.0.1:${nginxPort}`, home: tls.home });
    stops.push(browser.close);
    // Which instance answered each /auth/ request.
    const servedBy = new Map();
    browser.context.on('response', (res) => {
      const instance = res.headers()['x-authjar-instance'];
      if (!instance) return;
      const path = new URL(res.url()).pathname;
      if (!servedBy.has(path)) servedBy.set(path, new Set());
      servedBy.get(path).add(instance);
    });
    const run = {
      ...t, hub, browser, appUrl: t.app, https: true, apiPort: hubPort, appPort: nginxPort, certs: tls.certs,
    };
    const state = await flows(run);
    await logoutFlow(run, state.page);

    const all = new Set([...servedBy.values()].flatMap((s) => [...s]));
    assert.deepEqual([...all].sort(), instances.map((i) => `127.0.0.1:${i.port}`).sort(), 'both instances answered');
    for (const path of ['/auth/refresh', '/auth/me']) {
      assert.ok(servedBy.has(path), `${path} was called through the pool`);
    }
  } finally {
    for (const s of stops.reverse()) await s();
  }
});
