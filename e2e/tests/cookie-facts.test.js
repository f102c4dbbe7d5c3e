// The cookie facts authjar's browser model states for each engine, measured
// in both: a real Chromium (default profile) and a real Firefox ESR (default
// settings: Total Cookie Protection, CHIPS, no Lax-by-default), each on a
// fresh profile that trusts the local CA. Every case is a page that makes
// credentialed fetches to an API which sets cookies and then echoes the
// cookies it received; the jar is read afterwards.
//
// EXPECTED is the record: docs/browser-facts.md ("Firefox, measured") lists
// the same cases, and crates/authjar-policy/tests/it/firefox_facts.rs holds
// the model to them. A browser that behaves differently fails this test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES, launchEngine } from '../lib/browser.js';
import { startLab, fetchCase, cookieNames } from '../lib/cookie-lab.js';
import { ROOT } from '../lib/servers.js';
import { sharedCerts } from '../lib/util.js';

const tls = sharedCerts();
let lab;
before(async () => { lab = await startLab(tls.certs); });
after(async () => { await lab?.stop(); });

/** `{http}` in a URL is the lab's plain-http port. */
const at = (url) => url.replace('{http}', String(lab.httpPort));

/**
 * The cases. `set` are the Set-Cookie lines the API answers the page's
 * fetch with; `expect[engine][cookie]` is what happened to each cookie:
 * 'sent' (stored, and sent on the page's next fetch), 'refused' (not in the
 * jar), with ' in <site>' when it is stored in that top-level site's partition.
 */
const CASES = [
  {
    id: 'F1', what: 'same origin over https: Lax and Strict cookies',
    page: 'https://hub.test/', api: 'https://hub.test',
    set: ['f1_lax=1; SameSite=Lax; Secure; HttpOnly; Path=/', 'f1_strict=1; SameSite=Strict; Secure; Path=/'],
    expect: {
      chromium: { f1_lax: 'sent', f1_strict: 'sent' },
      firefox: { f1_lax: 'sent', f1_strict: 'sent' },
    },
  },
  {
    id: 'F2', what: '__Host- prefix with and without a Path attribute',
    page: 'https://hub.test/', api: 'https://hub.test',
    set: ['__Host-f2_path=1; Secure; Path=/; SameSite=Lax', '__Host-f2_nopath=1; Secure; SameSite=Lax'],
    expect: {
      chromium: { '__Host-f2_path': 'sent', '__Host-f2_nopath': 'refused' },
      firefox: { '__Host-f2_path': 'sent', '__Host-f2_nopath': 'sent' },
    },
  },
  {
    id: 'F2b', what: '__Host- prefix without a Path attribute, set from /deep/set (default path /deep)',
    page: 'https://hub.test/', api: 'https://hub.test/deep',
    set: ['__Host-f2b=1; Secure; SameSite=Lax'],
    expect: {
      chromium: { '__Host-f2b': 'refused' },
      firefox: { '__Host-f2b': 'refused' },
    },
  },
  {
    id: 'F3', what: 'http page, https API on the same registrable domain (http://hub.test → https://api.hub.test)',
    page: 'http://hub.test:{http}/', api: 'https://api.hub.test',
    set: ['f3_lax=1; SameSite=Lax; Secure; Path=/', 'f3_strict=1; SameSite=Strict; Secure; Path=/', 'f3_none=1; SameSite=None; Secure; Path=/'],
    expect: {
      chromium: { f3_lax: 'refused', f3_strict: 'refused', f3_none: 'refused' },
      firefox: { f3_lax: 'sent', f3_strict: 'sent', f3_none: 'sent' },
    },
  },
  {
    id: 'F4', what: 'localhost page, 127.0.0.1 API (http://localhost → http://127.0.0.1)',
    page: 'http://localhost:{http}/', api: 'http://127.0.0.1:{http}',
    set: ['f4_lax=1; SameSite=Lax; Path=/', 'f4_unset=1; Path=/', 'f4_none=1; SameSite=None; Secure; Path=/', 'f4_part=1; SameSite=None; Secure; Partitioned; Path=/'],
    expect: {
      chromium: { f4_lax: 'refused', f4_unset: 'refused', f4_none: 'refused', f4_part: 'sent in http://localhost' },
      firefox: { f4_lax: 'refused', f4_unset: 'sent in http://localhost', f4_none: 'sent in http://localhost', f4_part: 'sent in http://localhost' },
    },
  },
  {
    id: 'F5', what: 'unrelated sites (https://hub.test → https://hub-api.test)',
    page: 'https://hub.test/', api: 'https://hub-api.test',
    set: ['f5_lax=1; SameSite=Lax; Secure; Path=/', 'f5_unset=1; Secure; Path=/', 'f5_none=1; SameSite=None; Secure; Path=/', 'f5_part=1; SameSite=None; Secure; Partitioned; Path=/'],
    expect: {
      chromium: { f5_lax: 'refused', f5_unset: 'refused', f5_none: 'refused', f5_part: 'sent in https://hub.test' },
      firefox: { f5_lax: 'refused', f5_unset: 'sent in https://hub.test', f5_none: 'sent in https://hub.test', f5_part: 'sent in https://hub.test' },
    },
  },
  {
    id: 'F6', what: 'sibling subdomains (https://app.hub.test → https://api.hub.test)',
    page: 'https://app.hub.test/', api: 'https://api.hub.test',
    set: ['f6_lax=1; SameSite=Lax; Secure; Path=/', 'f6_strict=1; SameSite=Strict; Secure; Path=/'],
    expect: {
      chromium: { f6_lax: 'sent', f6_strict: 'sent' },
      firefox: { f6_lax: 'sent', f6_strict: 'sent' },
    },
  },
  {
    id: 'F7', what: 'SameSite=None without Secure (same origin, https)',
    page: 'https://hub.test/', api: 'https://hub.test',
    set: ['f7_none=1; SameSite=None; Path=/'],
    expect: {
      chromium: { f7_none: 'refused' },
      firefox: { f7_none: 'refused' },
    },
  },
  {
    id: 'F8', what: 'Secure and __Host- cookies over http://localhost',
    page: 'http://localhost:{http}/', api: 'http://localhost:{http}',
    set: ['f8_secure=1; Secure; SameSite=Lax; Path=/', '__Host-f8=1; Secure; Path=/; SameSite=Lax'],
    expect: {
      chromium: { f8_secure: 'sent', '__Host-f8': 'sent' },
      firefox: { f8_secure: 'sent', '__Host-f8': 'sent' },
    },
  },
  {
    id: 'F9', what: 'a Secure cookie over plain http on another host name',
    page: 'http://hub.test:{http}/', api: 'http://hub.test:{http}',
    set: ['f9_secure=1; Secure; SameSite=Lax; Path=/'],
    expect: {
      chromium: { f9_secure: 'refused' },
      firefox: { f9_secure: 'refused' },
    },
  },
];

/**
 * After F5: the API visited top-level (https://hub-api.test/echo) — the
 * cookies stored in https://hub.test's partition are not sent there.
 */
const TOP_LEVEL = {
  id: 'F10', what: 'unrelated sites: the API visited top-level after F5',
  expect: { chromium: [], firefox: [] },
};

/** `(https,hub.test)` (Firefox) or `https://hub.test` (Chromium) → `https://hub.test`. */
function partitionSite(key) {
  if (!key) return '';
  const m = key.match(/^\((\w+),([^,)]+)/);
  return m ? `${m[1]}://${m[2]}` : key;
}

/** Every cookie in the jar with the top-level site of its partition ('' when unpartitioned). */
async function jar(browser, page) {
  if (browser.engine === 'firefox') {
    return (await browser.context.cookiesWithPartitions()).map((c) => ({ name: c.name, partition: partitionSite(c.partitionKey) }));
  }
  const cdp = await browser.context.newCDPSession(page.page ?? page);
  const { cookies } = await cdp.send('Storage.getCookies');
  await cdp.detach();
  return cookies.map((c) => ({ name: c.name, partition: partitionSite(c.partitionKey?.topLevelSite ?? c.partitionKey ?? '') }));
}

function outcome(name, sent, stored) {
  const held = stored.filter((c) => c.name === name);
  if (held.length === 0) return sent.includes(name) ? 'sent, not in the jar' : 'refused';
  const where = held[0].partition ? ` in ${held[0].partition}` : '';
  return `${sent.includes(name) ? 'sent' : 'stored, not sent'}${where}`;
}

const ARTIFACTS = join(ROOT, 'e2e', 'artifacts');

for (const engine of ENGINES) {
  test(`cookie facts in ${engine}`, async () => {
    const hosts = ['hub.test', 'app.hub.test', 'api.hub.test', 'hub-api.test'];
    const hostRules = [
      ...hosts.map((h) => `MAP ${h}:443 127.0.0.1:${lab.httpsPort}`),
      `MAP hub.test:${lab.httpPort} 127.0.0.1:${lab.httpPort}`,
    ].join(', ');
    const browser = await launchEngine(engine, { hostRules, home: tls.home, certs: tls.certs });
    const measured = {};
    try {
      if (engine === 'firefox') {
        const p = browser.context.prefs;
        assert.equal(p.cookieBehavior, 5, 'Total Cookie Protection (network.cookie.cookieBehavior = 5)');
        assert.equal(p.cookieBehaviorIsDefault, true, 'cookieBehavior is Firefox\'s default, not set by the test');
        assert.equal(p.contentBlocking, 'standard', 'Enhanced Tracking Protection: standard');
        measured.browser = `Firefox ${p.version}`;
        measured.prefs = p;
      } else {
        measured.browser = `Chromium ${browser.context.browser().version()}`;
      }
      for (const c of CASES) {
        const { page, sent } = await fetchCase(browser.context, at(c.page), at(c.api), c.set);
        const stored = await jar(browser, page);
        await page.close();
        measured[c.id] = Object.fromEntries(Object.keys(c.expect[engine]).map((name) => [name, outcome(name, sent, stored)]));
      }
      const page = await browser.context.newPage();
      await page.goto('https://hub-api.test/echo?plain');
      const body = JSON.parse(await page.evaluate(() => document.body.innerText));
      await page.close();
      measured[TOP_LEVEL.id] = cookieNames(body.cookie).filter((n) => n.startsWith('f5_'));
    } finally {
      await browser.close();
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, `cookie-facts-${engine}.json`), `${JSON.stringify(measured, null, 2)}\n`);
    for (const c of CASES) assert.deepEqual(measured[c.id], c.expect[engine], `${c.id} ${c.what} in ${measured.browser}`);
    assert.deepEqual(measured[TOP_LEVEL.id], TOP_LEVEL.expect[engine], `${TOP_LEVEL.id} ${TOP_LEVEL.what} in ${measured.browser}`);
  });
}
