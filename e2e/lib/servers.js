// The processes an end-to-end test needs, started on loopback and stopped
// by the test: authjar itself (the binary the test command built) and a
// static file server for the app's pages.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { createServer as netServer } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');

/** The authjar binary built by the test command (override with AUTHJAR_BIN). */
export const AUTHJAR_BIN = process.env.AUTHJAR_BIN || join(ROOT, 'target', 'debug', 'authjar');
/** The demo binary (override with HUB_BIN). */
export const HUB_BIN = process.env.HUB_BIN || join(dirname(AUTHJAR_BIN), 'cat-therapist-hub');

/** `count` distinct TCP ports on 127.0.0.1 that were free a moment ago. */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = netServer();
      servers.push(s);
      await new Promise((ok, fail) => { s.once('error', fail); s.listen(0, '127.0.0.1', ok); });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((ok) => s.close(() => ok()))));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort() {
  return (await freePorts(1))[0];
}

const ADDRESS_IN_USE = /EADDRINUSE|Address already in use/;

/**
 * Starts what must be told its port numbers in advance (a child process
 * that is given a port, a URL that names it): `start(ports)` with `count`
 * ports from `freePorts`. Nothing holds such a port between the moment it
 * is found free and the moment the child binds it, so another process may
 * take it in between: a start that fails with "address already in use" is
 * tried again on new ports. (In-process servers never need this: they
 * listen on port 0 and read the port they got.)
 */
export async function onFreePorts(count, start, { attempts = 5 } = {}) {
  for (let attempt = 1; ; attempt++) {
    const ports = await freePorts(count);
    try {
      return await start(ports);
    } catch (e) {
      if (attempt >= attempts || !ADDRESS_IN_USE.test(String(e?.message ?? e))) throw e;
    }
  }
}

/** Listens on 127.0.0.1:`port` (0: any free port) and resolves with the port. */
export function listen(server, port = 0) {
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      ok(server.address().port);
    });
  });
}

/**
 * Starts `authjar serve` in a fresh directory with `env` (nothing inherited
 * but PATH and HOME) and resolves once its banner is printed. `stop()`
 * ends it and removes the directory; a start that fails leaves neither.
 */
export async function startAuthjar(env, { bin = AUTHJAR_BIN, args = ['serve'] } = {}) {
  if (!existsSync(bin)) throw new Error(`build it first: ${bin} is missing`);
  const dir = mkdtempSync(join(tmpdir(), 'authjar-e2e-'));
  const child = spawn(bin, args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTHJAR_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close' comes after the output is read to its end ('exit' may come before).
  const closed = new Promise((ok) => child.once('close', ok));
  const stop = async () => {
    if (child.pid !== undefined) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await closed;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let banner = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  let onBanner;
  try {
    await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`${bin} did not start within 20 s:\n${banner}\n${stderr}`)), 20000);
      onBanner = (d) => {
        banner += d;
        if (/^(No problems|Problems)/m.test(banner)) { clearTimeout(timer); ok(); }
      };
      child.stdout.on('data', onBanner);
      closed.then((code) => { clearTimeout(timer); fail(new Error(`${bin} exited ${code}:\n${banner}\n${stderr}`)); });
      child.once('error', (e) => { clearTimeout(timer); fail(e); });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  child.stdout.off('data', onBanner);
  child.stdout.resume();
  return { banner, dir, child, stop, stderr: () => stderr };
}

/** Starts the demo (authjar + bookings API, and the app's pages on `appListen`). */
export function startHub(env, appListen) {
  const args = appListen ? ['--app-listen', appListen] : [];
  return startAuthjar(env, { bin: HUB_BIN, args });
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css', '.json': 'application/json' };

/** Serves the files of `dir` on 127.0.0.1 (on a free port); resolves with the port. */
export async function serveStatic(dir) {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    let file = join(root, path);
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  const port = await listen(server);
  return { port, stop: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }) };
}
