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

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = netServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * Starts `authjar serve` in a fresh directory with `env` (nothing inherited
 * but PATH and HOME) and resolves once its banner is printed.
 */
export async function startAuthjar(env, { bin = AUTHJAR_BIN, args = ['serve'] } = {}) {
  if (!existsSync(bin)) throw new Error(`build it first: ${bin} is missing`);
  const dir = mkdtempSync(join(tmpdir(), 'authjar-e2e-'));
  const child = spawn(bin, args, {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTHJAR_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let banner = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`authjar did not start:\n${banner}\n${stderr}`)), 20000);
    child.stdout.on('data', (d) => {
      banner += d;
      if (/^(No problems|Problems)/m.test(banner)) { clearTimeout(timer); ok(); }
    });
    child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`authjar exited ${code}:\n${banner}\n${stderr}`)); });
  });
  child.removeAllListeners('exit');
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((ok) => child.once('exit', ok));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { banner, dir, child, stop, stderr: () => stderr };
}

/** Starts the demo (authjar + bookings API, and the app's pages on `appListen`). */
export function startHub(env, appListen) {
  const args = appListen ? ['--app-listen', appListen] : [];
  return startAuthjar(env, { bin: HUB_BIN, args });
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css', '.json': 'application/json' };

/** Serves the files of `dir` on 127.0.0.1:`port`. */
export async function serveStatic(dir, port) {
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
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return { stop: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }) };
}
