// A real reverse proxy for the same-origin topology: nginx serves the app's
// pages and forwards /auth, /api and /.well-known to authjar, all on one
// https origin.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NGINX = process.env.NGINX_PATH || '/usr/sbin/nginx';

/**
 * Resolves once nginx has bound its port: it writes its pid file only after
 * opening its listening sockets, so a port someone else holds is reported
 * (nginx exits with the reason in its error log) instead of being mistaken
 * for nginx's. Fails with the error log if nginx exits first.
 */
function started(child, dir) {
  const log = () => (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
  return new Promise((ok, fail) => {
    const deadline = Date.now() + 10000;
    let exited = null;
    child.once('exit', (code, signal) => { exited = `nginx exited (${code ?? signal})`; });
    const check = () => {
      if (exited !== null) fail(new Error(`${exited}:\n${log()}`));
      else if (existsSync(join(dir, 'nginx.pid'))) ok();
      else if (Date.now() > deadline) fail(new Error(`nginx did not start within 10 s:\n${log()}`));
      else setTimeout(check, 50);
    };
    check();
  });
}

/**
 * nginx on 127.0.0.1:`port` (TLS) for `serverName`, pages from `root`, API at `upstream`.
 * With `authUpstreams` (several authjar instances), `/auth/` is balanced
 * round robin over them, and each answer names the instance that served it
 * in `X-Authjar-Instance`.
 */
export async function startNginx({ port, serverName, root, upstream, cert, key, api, authUpstreams }) {
  if (!existsSync(NGINX)) throw new Error(`nginx is required at ${NGINX} (apt-get install nginx-light)`);
  const dir = mkdtempSync(join(tmpdir(), 'authjar-nginx-'));
  const conf = `
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
user root;
events { worker_connections 256; }
http {
  access_log off;
  types { text/html html; text/javascript js; application/json json; }
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  ${authUpstreams ? `upstream authjar { ${authUpstreams.map((u) => `server ${u};`).join(' ')} }` : ''}
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${serverName};
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    root ${root};
    location = /config.json { default_type application/json; return 200 '{"api":"${api}"}'; }
    ${authUpstreams ? `location ^~ /auth/ {
      proxy_pass http://authjar;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
      add_header X-Authjar-Instance $upstream_addr always;
    }` : ''}
    location ~ ^/(auth|api|\\.well-known)/ {
      proxy_pass ${upstream};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto https;
    }
  }
}`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  execFileSync(NGINX, ['-t', '-c', join(dir, 'nginx.conf')], { stdio: 'pipe' });
  const child = spawn(NGINX, ['-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  const exited = new Promise((ok) => child.once('exit', ok));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGQUIT');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await started(child, dir);
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop };
}
