// Launching Debian's Firefox ESR on a fresh profile of our own and driving
// it with puppeteer-core over WebDriver BiDi: never a downloaded browser, and
// never puppeteer's generated profile (it turns Total Cookie Protection off
// and sets tracking protection to "custom"). The profile's user.js holds
// only what running a test needs (remote control, name mapping, quiet
// start-up); every cookie and privacy setting keeps Firefox's default.
//
// The object returned offers the small part of playwright-core's
// BrowserContext/Page API that e2e/lib/topology.js uses, so a topology runs
// unchanged in either engine (see `launchEngine` in e2e/lib/browser.js).
import puppeteer from 'puppeteer-core';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen } from './servers.js';

export const FIREFOX = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';

/** Firefox's default cookie behaviour: reject trackers, partition all other third-party cookies (Total Cookie Protection). */
export const COOKIE_BEHAVIOR_TOTAL_COOKIE_PROTECTION = 5;

/**
 * The Firefox line of what `authjar dev certs` printed (`instructions`):
 * the command, as words, with PROFILE still in it.
 */
export function printedFirefoxTrust(instructions) {
  const line = instructions.split('\n').find((l) => /^\s*Firefox\b.*certutil -d sql:PROFILE /.test(l));
  if (!line) throw new Error(`authjar dev certs printed no Firefox certutil line:\n${instructions}`);
  return line.slice(line.indexOf('certutil -d ')).trim().split(/\s+/);
}

/**
 * Does exactly what `authjar dev certs` printed for Firefox, on `profile`.
 * A profile Firefox has run in already has its NSS database (cert9.db); a
 * fresh test profile gets an empty one first, as Firefox would create it.
 */
export function trustInProfile(profile, instructions) {
  if (!existsSync(join(profile, 'cert9.db'))) execFileSync('certutil', ['-d', `sql:${profile}`, '-N', '--empty-password']);
  const [cmd, ...args] = printedFirefoxTrust(instructions).map((w) => w.replace('sql:PROFILE', `sql:${profile}`));
  execFileSync(cmd, args);
}

/** Reads Chromium-style `MAP host:port ip:port` rules into a `host:port` → `port` map. */
export function parseHostRules(hostRules) {
  const map = new Map();
  for (const rule of (hostRules || '').split(',').map((r) => r.trim()).filter(Boolean)) {
    const m = rule.match(/^MAP (\S+:\d+) 127\.0\.0\.1:(\d+)$/);
    if (!m) throw new Error(`unsupported host rule for Firefox: ${rule}`);
    map.set(m[1], Number(m[2]));
  }
  return map;
}

/**
 * An HTTPS proxy on loopback that tunnels `CONNECT host:443` to the local
 * port the rules give it (and refuses every other name): Firefox's own way
 * to reach a fake name's port 443 on a free local port, what Chromium's
 * `--host-resolver-rules` MAP does. TLS stays end to end between Firefox
 * and the server (the proxy only copies bytes).
 */
async function startTunnel(map) {
  const server = createServer((req, res) => { res.writeHead(405).end(); });
  const sockets = new Set();
  server.on('connect', (req, client, head) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    const port = map.get(req.url);
    if (!port) { client.end('HTTP/1.1 403 Forbidden\r\n\r\n'); return; }
    const upstream = tcpConnect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => { sockets.delete(upstream); client.destroy(); });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  const port = await listen(server);
  return {
    port,
    stop: () => new Promise((ok) => { for (const s of sockets) s.destroy(); server.close(() => ok()); server.closeAllConnections(); }),
  };
}

/** The profile's user.js: remote control, names to loopback, no start-up noise. Nothing about cookies or tracking protection. */
function userJs({ tunnelPort }) {
  const prefs = {
    // Every name resolves to loopback, so nothing ever leaves the machine.
    'network.dns.forceResolve': '127.0.0.1',
    // Quiet start-up: no first-run pages, default-browser prompt or telemetry upload.
    'browser.shell.checkDefaultBrowser': false,
    'browser.startup.homepage_override.mstone': 'ignore',
    'browser.aboutwelcome.enabled': false,
    'datareporting.policy.dataSubmissionEnabled': false,
    'toolkit.telemetry.reportingpolicy.firstRun': false,
    'app.update.disabledForTesting': true,
    'browser.tabs.warnOnClose': false,
    'browser.sessionstore.resume_from_crash': false,
    // The remote agent's "recommended preferences" include tracking
    // protection switches: keep the user's defaults instead.
    'remote.prefs.recommended': false,
  };
  if (tunnelPort) {
    Object.assign(prefs, {
      'network.proxy.type': 1,
      'network.proxy.ssl': '127.0.0.1',
      'network.proxy.ssl_port': tunnelPort,
      'network.proxy.share_proxy_settings': false,
    });
  }
  return Object.entries(prefs).map(([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`).join('\n') + '\n';
}

/**
 * Starts Firefox on `profile` and resolves with its WebDriver BiDi address.
 * `--remote-allow-system-access` lets the test read the preferences in
 * effect from the browser's own scope (see `readPrefs`); pages are not affected.
 */
function startFirefox(profile, home) {
  const child = spawn(FIREFOX, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0', '--remote-allow-system-access'], {
    env: { ...process.env, ...(home ? { HOME: home } : {}), MOZ_CRASHREPORTER_DISABLE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const closed = new Promise((ok) => child.once('close', ok));
  let output = '';
  const address = new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`Firefox did not offer WebDriver BiDi within 30 s:\n${output}`)), 30000);
    const onData = (d) => {
      output += d;
      const m = output.match(/WebDriver BiDi listening on (ws:\/\/\S+)/);
      if (m) { clearTimeout(timer); ok(m[1]); }
    };
    child.stderr.on('data', onData);
    child.stdout.on('data', onData);
    closed.then((code) => { clearTimeout(timer); fail(new Error(`Firefox exited ${code}:\n${output}`)); });
    child.once('error', (e) => { clearTimeout(timer); fail(e); });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await closed;
  };
  return { address, stop, output: () => output };
}

/** The playwright-like face of a puppeteer page. */
class FirefoxPage {
  constructor(page) {
    this.page = page;
  }
  goto(url) { return this.page.goto(url, { waitUntil: 'load' }); }
  reload() { return this.page.reload({ waitUntil: 'load' }); }
  close() { return this.page.close(); }
  url() { return this.page.url(); }
  evaluate(fn, arg) { return this.page.evaluate(fn, arg); }
  waitForSelector(selector, { timeout = 30000 } = {}) { return this.page.waitForSelector(selector, { timeout }); }
  waitForFunction(fn, arg, { timeout = 30000 } = {}) { return this.page.waitForFunction(fn, { timeout }, arg); }
  async fill(selector, value) {
    await this.page.waitForSelector(selector);
    await this.page.$eval(selector, (el) => { el.value = ''; });
    await this.page.type(selector, value);
  }
  async click(selector) {
    await this.page.waitForSelector(selector);
    await this.page.click(selector);
  }
  async getAttribute(selector, name) {
    await this.page.waitForSelector(selector);
    return this.page.$eval(selector, (el, n) => el.getAttribute(n), name);
  }
  locator(selector) {
    const page = this.page;
    return {
      count: () => page.$$eval(selector, (els) => els.length),
      evaluateAll: (fn, arg) => page.$$eval(selector, fn, arg),
    };
  }
  screenshot(options) { return this.page.screenshot(options); }
}

/**
 * The playwright-like face of the browser: pages, and the `request` event
 * of every page it opened. Like playwright-core, it reports no CORS
 * preflights (WebDriver BiDi does), so request counts mean the same in
 * both engines.
 */
class FirefoxContext {
  constructor(browser) {
    this.browser = browser;
    this.listeners = new Set();
    this.engine = 'firefox';
  }
  async newPage() {
    const page = await this.browser.newPage();
    page.on('request', (req) => {
      if (req.method() === 'OPTIONS' && req.headers()['access-control-request-method']) return;
      for (const l of this.listeners) l(req);
    });
    return new FirefoxPage(page);
  }
  on(event, listener) {
    if (event !== 'request') throw new Error(`FirefoxContext: no '${event}' event`);
    this.listeners.add(listener);
  }
  off(event, listener) { this.listeners.delete(listener); }

  /**
   * Every cookie in the jar, partitioned ones included, in the shape of
   * e2e/lib/banner.js `jarCookies`, read from Firefox's cookie service
   * (WebDriver BiDi's storage.getCookies reads one partition at a time and
   * does not say which cookie is partitioned). `partitionKey` is the
   * top-level site holding a partitioned cookie, as Firefox writes it:
   * `(https,hub.test)`, or '' for an unpartitioned one.
   */
  async cookiesWithPartitions() {
    const json = await chromeEval(this.browser, `JSON.stringify(Services.cookies.cookies.map((c) => ({
      name: c.name, value: c.value, host: c.host, path: c.path, secure: c.isSecure, httpOnly: c.isHttpOnly,
      sameSite: { [Ci.nsICookie.SAMESITE_STRICT]: 'Strict', [Ci.nsICookie.SAMESITE_LAX]: 'Lax', [Ci.nsICookie.SAMESITE_NONE]: 'None' }[c.sameSite] ?? 'unset',
      partitionKey: c.originAttributes.partitionKey,
    })))`);
    return JSON.parse(json).map((c) => ({
      name: c.name, secure: c.secure, httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path,
      domain: c.host.replace(/^\./, ''), hostOnly: !c.host.startsWith('.'), partitioned: c.partitionKey !== '',
      value: c.value, partitionKey: c.partitionKey,
    }));
  }

  /** Every cookie in the jar, exactly in the shape of e2e/lib/banner.js `jarCookies`. */
  async jarCookies() {
    return (await this.cookiesWithPartitions()).map(({ partitionKey, ...c }) => c);
  }
}

/** Evaluates `expression` in the browser's own (chrome) scope, where `Services` lives; resolves with its primitive value. */
async function chromeEval(browser, expression) {
  const { result: tree } = await browser.connection.send('browsingContext.getTree', { 'moz:scope': 'chrome' });
  const context = tree.contexts[0].context;
  const { result } = await browser.connection.send('script.evaluate', { expression, target: { context }, awaitPromise: false });
  if (result.type !== 'success') throw new Error(`evaluating ${expression}: ${JSON.stringify(result)}`);
  return result.result.value;
}

/** The cookie-related preferences in effect. */
async function readPrefs(browser) {
  const read = (expression) => chromeEval(browser, expression);
  return {
    version: await read('Services.appinfo.version'),
    cookieBehavior: await read("Services.prefs.getIntPref('network.cookie.cookieBehavior')"),
    cookieBehaviorIsDefault: !(await read("Services.prefs.prefHasUserValue('network.cookie.cookieBehavior')")),
    contentBlocking: await read("Services.prefs.getStringPref('browser.contentblocking.category')"),
    laxByDefault: await read("Services.prefs.getBoolPref('network.cookie.sameSite.laxByDefault')"),
    chips: await read("Services.prefs.getBoolPref('network.cookie.CHIPS.enabled')"),
  };
}

/**
 * A Firefox ESR on a fresh profile of its own, with Firefox's defaults.
 * `hostRules` are Chromium-style `MAP name:443 127.0.0.1:port` rules;
 * `certs` (e2e/lib/tls.js `devCerts`): its CA is trusted in the profile by
 * running what `authjar dev certs` printed for Firefox. `home` is the HOME
 * Firefox runs with.
 */
export async function launchFirefox({ hostRules, certs, home } = {}) {
  if (!existsSync(FIREFOX)) throw new Error(`Firefox ESR is required at ${FIREFOX} (apt-get install firefox-esr)`);
  const profile = mkdtempSync(join(tmpdir(), 'authjar-firefox-'));
  const stops = [async () => rmSync(profile, { recursive: true, force: true })];
  const close = async () => { for (const s of stops.splice(0).reverse()) await s().catch(() => {}); };
  try {
    const map = parseHostRules(hostRules);
    const tunnel = map.size ? await startTunnel(map) : undefined;
    if (tunnel) stops.push(tunnel.stop);
    writeFileSync(join(profile, 'user.js'), userJs({ tunnelPort: tunnel?.port }));
    if (certs) trustInProfile(profile, certs.instructions);
    const firefox = startFirefox(profile, home);
    stops.push(firefox.stop);
    const address = await firefox.address;
    const browser = await puppeteer.connect({ browserWSEndpoint: `${address}/session`, protocol: 'webDriverBiDi' });
    stops.push(() => browser.close());
    const context = new FirefoxContext(browser);
    context.profile = profile;
    context.prefs = await readPrefs(browser);
    if (context.prefs.cookieBehavior !== COOKIE_BEHAVIOR_TOTAL_COOKIE_PROTECTION) {
      throw new Error(`network.cookie.cookieBehavior is ${context.prefs.cookieBehavior}, not Firefox's default 5 (Total Cookie Protection)`);
    }
    context.close = close;
    return { context, close, engine: 'firefox', profile };
  } catch (e) {
    await close();
    throw e;
  }
}
