// A cookie laboratory: one tiny server answering on plain http and on
// https for every fake name, which sets the cookies a case asks for and
// reports the cookies it receives, with credentialed CORS for any origin.
// `/set` and `/echo` answer under any directory (`/deep/set`), so the
// default cookie path can be chosen. A case runs in a real browser page: the page fetches `/set` on the API,
// then `/echo`, and the browser's jar is read afterwards.
import { createServer as httpServer } from 'node:http';
import { createServer as httpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { listen } from './servers.js';

function handle(req, res) {
  const url = new URL(req.url, 'http://lab');
  const origin = req.headers.origin;
  const cors = origin ? { 'access-control-allow-origin': origin, 'access-control-allow-credentials': 'true', vary: 'Origin' } : {};
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type' }).end();
    return;
  }
  if (url.pathname.endsWith('/set')) {
    res.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store', 'set-cookie': url.searchParams.getAll('c') });
    res.end('{"ok":true}');
    return;
  }
  if (url.pathname.endsWith('/echo')) {
    // As text/plain for a top-level visit (Firefox shows JSON in its viewer).
    const type = url.searchParams.has('plain') ? 'text/plain' : 'application/json';
    res.writeHead(200, { ...cors, 'content-type': type, 'cache-control': 'no-store' });
    res.end(JSON.stringify({ cookie: req.headers.cookie ?? '' }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end('<!doctype html><meta charset="utf-8"><title>cookie lab</title><body>lab</body>');
}

/** Starts the lab on two free loopback ports: `{ httpPort, httpsPort, stop }`. */
export async function startLab({ cert, key }) {
  const plain = httpServer(handle);
  const secure = httpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, handle);
  const httpPort = await listen(plain);
  const httpsPort = await listen(secure);
  const close = (s) => new Promise((ok) => { s.close(() => ok()); s.closeAllConnections(); });
  return { httpPort, httpsPort, stop: async () => { await close(plain); await close(secure); } };
}

/** The names of the cookies in a `Cookie` header. */
export function cookieNames(header) {
  return header.split(';').map((p) => p.trim().split('=')[0]).filter(Boolean);
}

/**
 * In a page on `pageUrl`: a credentialed fetch of `api`/set that sets
 * `setCookies`, then one of `api`/echo; resolves with the names of the
 * cookies the echo carried. The page stays open for reading the jar.
 */
export async function fetchCase(context, pageUrl, api, setCookies) {
  const page = await context.newPage();
  await page.goto(pageUrl);
  const cookie = await page.evaluate(async ({ api, setCookies }) => {
    const q = setCookies.map((c) => `c=${encodeURIComponent(c)}`).join('&');
    await fetch(`${api}/set?${q}`, { credentials: 'include' });
    const r = await fetch(`${api}/echo`, { credentials: 'include' });
    return (await r.json()).cookie;
  }, { api, setCookies });
  return { page, sent: cookieNames(cookie) };
}
