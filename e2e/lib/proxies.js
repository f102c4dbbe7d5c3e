// Real reverse proxies doing forward-auth against authjar: nginx
// (`auth_request`) and Caddy (`forward_auth`), each configured with the
// snippet README shows (docs/proxies/), its addresses replaced by the
// test's ports. Both listen on 127.0.0.1 only.
import { spawn, execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './servers.js';

const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';
const CADDY = process.env.CADDY_PATH || '/usr/bin/caddy';

/** The configuration snippets README shows, one file each. */
export const SNIPPETS = {
  nginx: join(ROOT, 'docs', 'proxies', 'nginx.conf'),
  caddy: join(ROOT, 'docs', 'proxies', 'Caddyfile'),
  traefik: join(ROOT, 'docs', 'proxies', 'traefik.yml'),
};

/**
 * A snippet with its documented addresses (authjar at 127.0.0.1:8000, the
 * service at 127.0.0.1:9000, the site app.example.com) replaced by the test's.
 */
export function snippet(name, { authjar, upstream, site }) {
  const text = readFileSync(SNIPPETS[name], 'utf8');
  for (const documented of ['127.0.0.1:8000', '127.0.0.1:9000']) {
    if (!text.includes(documented)) throw new Error(`${SNIPPETS[name]} no longer names ${documented}`);
  }
  let out = text.replaceAll('127.0.0.1:8000', authjar).replaceAll('127.0.0.1:9000', upstream);
  if (site) out = out.replaceAll('app.example.com', site);
  return out;
}

/** Resolves once 127.0.0.1:`port` accepts connections; fails if `child` exits first or after 10 s. */
function accepting(child, port, log) {
  return new Promise((ok, fail) => {
    const deadline = Date.now() + 10000;
    let exited = null;
    child.once('exit', (code, signal) => { exited = `exited (${code ?? signal})`; });
    const attempt = () => {
      if (exited !== null) { fail(new Error(`${exited}:\n${log()}`)); return; }
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); ok(); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) fail(new Error(`nothing listens on ${port} after 10 s:\n${log()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function stopper(child, dir, signal) {
  const exited = new Promise((ok) => child.once('exit', ok));
  return async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
}

/** nginx on 127.0.0.1:`port` with README's forward-auth snippet. */
export async function startNginxForwardAuth({ port, authjar, upstream }) {
  if (!existsSync(NGINX)) throw new Error(`nginx is required at ${NGINX} (apt-get install nginx-light)`);
  const dir = mkdtempSync(join(tmpdir(), 'authjar-nginx-fa-'));
  const conf = `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
user root;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
${snippet('nginx', { authjar, upstream })}
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  execFileSync(NGINX, ['-t', '-c', join(dir, 'nginx.conf')], { stdio: 'pipe' });
  const child = spawn(NGINX, ['-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const stop = stopper(child, dir, 'SIGQUIT');
  const log = () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
  try {
    await accepting(child, port, log);
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop, log };
}

/** Caddy on 127.0.0.1:`port` (plain http, no admin API) with README's forward-auth snippet. */
export async function startCaddyForwardAuth({ port, authjar, upstream }) {
  if (!existsSync(CADDY)) throw new Error(`Caddy is required at ${CADDY} (apt-get install caddy)`);
  const dir = mkdtempSync(join(tmpdir(), 'authjar-caddy-fa-'));
  const conf = `{
	admin off
	auto_https off
	default_bind 127.0.0.1
}
${snippet('caddy', { authjar, upstream, site: `http://localhost:${port}` })}`;
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, conf);
  const env = { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') };
  execFileSync(CADDY, ['validate', '--config', file, '--adapter', 'caddyfile'], { stdio: 'pipe', env });
  let output = '';
  const child = spawn(CADDY, ['run', '--config', file, '--adapter', 'caddyfile'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const stop = stopper(child, dir, 'SIGTERM');
  try {
    await accepting(child, port, () => output);
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop, log: () => output };
}
