// The attacker: https://evil.test, a page that tries, with the victim's
// cookies riding along, to log the victim out, revoke their session and
// cancel their booking — by <img> GET, an auto-submitted form POST, and
// credentialed fetch POSTs as text/plain and as JSON.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { listen } from './servers.js';

/** The attack page's HTML for an API at `api`. */
export function attackPage(api, { bookingId, sessionId }) {
  const targets = [
    { name: 'logout', method: 'POST', url: `${api}/auth/logout` },
    { name: 'revoke', method: 'DELETE', url: `${api}/auth/sessions/${sessionId}` },
    { name: 'cancel', method: 'DELETE', url: `${api}/api/bookings/${bookingId}` },
  ];
  return `<!doctype html><meta charset="utf-8"><title>Win a free cat nap!</title>
<body>
<script>
const targets = ${JSON.stringify(targets)};
const results = {};
async function attack() {
  for (const t of targets) {
    // 1. <img> GET: carries no Lax cookies cross-site, and GETs never change state anyway.
    await new Promise((ok) => { const img = new Image(); img.onload = img.onerror = ok; img.src = t.url; document.body.append(img); });
    // 2. fetch as text/plain, a "simple" request: no preflight, cookies attached.
    try { const r = await fetch(t.url, { method: 'POST', credentials: 'include', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{}' }); results[t.name + ':text'] = r.type; } catch (e) { results[t.name + ':text'] = 'error'; }
    // 3. fetch as JSON with the real method: needs a preflight, which authjar refuses.
    try { const r = await fetch(t.url, { method: t.method, credentials: 'include', headers: { 'Content-Type': 'application/json' }, body: '{}' }); results[t.name + ':json'] = r.status; } catch (e) { results[t.name + ':json'] = 'blocked'; }
  }
  // 4. An auto-submitted form POST (top-level navigation, last because it leaves the page).
  document.body.dataset.fetched = 'true';
  window.results = results;
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = targets[0].url;
  form.innerHTML = '<input name="cat" value="Mittens">';
  document.body.append(form);
  form.submit();
}
attack();
</script>
</body>`;
}

/**
 * Serves the attacker's site on 127.0.0.1 (on a free port, which the
 * browser maps https://evil.test to) from the start of a topology; the
 * page at every path is the last one given to `show(html)`.
 */
export async function startEvil({ cert, key }) {
  let html = () => '<!doctype html><title>nothing here yet</title>';
  const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html());
  });
  const port = await listen(server);
  return {
    port,
    show: (page) => { html = page; },
    stop: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }),
  };
}
