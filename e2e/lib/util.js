// What every suite shares: the access-token lifetime authjar runs with,
// waiting (for time to pass, or for a condition), recording the browser's
// requests, and the local HTTPS certificates of a test file.
import { before, after } from 'node:test';
import { rmSync } from 'node:fs';
import { devCerts, trustingHome } from './tls.js';

/** authjar's access-token lifetime in every suite: short, so expiry is tested by waiting it out. */
export const ACCESS_TTL_SECS = 3;

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Waits until an access token issued before the call has expired. */
export const outliveAccessToken = () => sleep(ACCESS_TTL_SECS * 1000 + 400);

/**
 * Polls `check` (sync or async) until it returns a truthy value, which is
 * returned; after `timeout` ms fails with `describe()` (what is still missing).
 */
export async function waitFor(check, describe, { timeout = 15000, every = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const done = await check();
    if (done) return done;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms: ${describe()}`);
    await sleep(every);
  }
}

/** Records the requests of the browser `context` whose path ends with `pathEnd`, until `stop()`. */
export function record(context, pathEnd) {
  const seen = [];
  const listener = (req) => { if (new URL(req.url()).pathname.endsWith(pathEnd)) seen.push(req); };
  context.on('request', listener);
  return { seen, stop: () => context.off('request', listener) };
}

/** Every fake https name a suite uses (the attacker's included). */
export const CERT_NAMES = ['hub.test', 'app.hub.test', 'api.hub.test', 'hub-api.test', 'evil.test'];

/**
 * Registers the test file's `before` hook that makes the local CA, one
 * certificate for every name and a HOME whose NSS database trusts the CA,
 * and the `after` hook that removes them. Returns `{ certs, home }`, filled
 * in by the `before` hook.
 */
export function sharedCerts() {
  const shared = { certs: undefined, home: undefined };
  before(() => {
    shared.certs = devCerts(CERT_NAMES);
    shared.home = trustingHome(shared.certs.ca);
  });
  after(() => {
    for (const dir of [shared.certs?.dir, shared.home]) if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return shared;
}
