// A real OpenID Provider on loopback: the certified `oidc-provider` package
// with one client (authjar) and its development login interaction, where any
// login name signs in as `<name>@op.test` with a verified e-mail.
import Provider from 'oidc-provider';
import { createServer } from 'node:http';
import { listen } from './servers.js';

export const CLIENT_ID = 'cat-therapist-hub';
export const CLIENT_SECRET = 'op-test-client-secret-0123456789';

/** Starts the provider at http://127.0.0.1 (on a free port), allowing `redirectUris`. */
export async function startOp(redirectUris) {
  // The issuer names the port, so the server listens before the provider exists.
  let handle = (req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handle(req, res));
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    async findAccount(ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: `${id}@op.test`, email_verified: true, name: `Op ${id}` };
        },
      };
    },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: ['authjar-e2e-op-cookie-key'] },
  });
  provider.proxy = false;
  handle = provider.callback();
  return {
    issuer,
    stop: () => new Promise((ok) => { server.close(ok); server.closeAllConnections(); }),
  };
}

/** Drives the provider's development login and consent pages. */
export async function signInAtOp(page, login) {
  await page.waitForSelector('input[name=login]', { timeout: 15000 });
  await page.fill('input[name=login]', login);
  await page.fill('input[name=password]', 'any password');
  await page.click('button[type=submit]');
  // Consent (first login only).
  const consent = await page.waitForSelector('button[type=submit]', { timeout: 5000 }).catch(() => null);
  if (consent && page.url().includes('127.0.0.1')) await consent.click();
}
