// Accounts over e-mail in Chromium, with mail through a real SMTP server on
// loopback: register → the e-mail arrives → its link opens the app →
// verified; forgot → e-mail → reset → the other browser's session is gone;
// change password; delete the account. In the development topology
// (verification not required) and across sibling subdomains in production
// (verification required before the first login).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTopology, openApp } from '../lib/topology.js';
import { startSmtp } from '../lib/smtp.js';
import { sharedCerts } from '../lib/util.js';

const tls = sharedCerts();

const status = (page) => page.textContent('#status');
const loggedIn = (page) => page.evaluate(() => !document.getElementById('logged-in').classList.contains('hidden'));

async function submit(page, form, fields) {
  for (const [name, value] of Object.entries(fields)) await page.fill(`#${form} input[name=${name}]`, value);
  await page.click(`#${form} button`);
}

async function waitStatus(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById('status').textContent), re.source, { timeout: 15000 })
    .catch(async (e) => { throw new Error(`status never matched ${re}: "${await status(page)}" (${e.message})`); });
}

async function logIn(page, email, password) {
  await submit(page, 'login-form', { email, password });
  await page.waitForFunction(() => !document.getElementById('logged-in').classList.contains('hidden'), null, { timeout: 15000 })
    .catch(async (e) => { throw new Error(`login as ${email} did not land: "${await status(page)}" (${e.message})`); });
}

async function accounts(t, { verificationRequired }) {
  const smtp = await startSmtp();
  const env = await startTopology({
    ...t,
    env: {
      AUTHJAR_EMAIL__SMTP_URL: smtp.url,
      AUTHJAR_EMAIL__FROM: 'Cat Therapist Hub <hub@cats.test>',
      AUTHJAR_EMAIL__APP_NAME: 'Cat Therapist Hub',
      AUTHJAR_REQUIRE_VERIFIED_EMAIL: String(verificationRequired),
    },
  }, tls.certs, tls.home);
  const other = await env.launchOther();
  const email = `kitty-${t.name}@cats.test`;
  try {
    // Register: the confirmation e-mail arrives through SMTP.
    const page = await openApp(env);
    await submit(page, 'signup-form', { name: 'Kitty', email, password: 'correct horse battery' });
    if (verificationRequired) {
      await waitStatus(page, /Check your inbox/);
      assert.equal(await loggedIn(page), false, 'no session before the address is confirmed');
    } else {
      await page.waitForFunction(() => document.getElementById('whoami').textContent === 'Kitty');
      assert.match(await page.textContent('#verified'), /Check your inbox/);
    }
    const letter = await smtp.nth(email, 0);
    assert.match(letter.subject, /Confirm your e-mail for Cat Therapist Hub/);
    assert.ok(letter.html.includes('verify_email='), 'an HTML part too');
    const confirmLink = await smtp.link(email, 'verify_email');
    assert.ok(confirmLink.startsWith(`${t.app}/#verify_email=`), `the link opens the app: ${confirmLink}`);

    // The link opens the app, which confirms the address.
    await page.goto(confirmLink);
    await page.waitForSelector('body[data-ready="true"]');
    await waitStatus(page, /is confirmed/);
    assert.ok(!page.url().includes('verify_email'), 'the token leaves the address bar');
    if (verificationRequired) await logIn(page, email, 'correct horse battery');
    await page.waitForFunction(() => /is confirmed/.test(document.getElementById('verified').textContent));
    assert.equal((await page.evaluate(() => window.hub.auth.me())).user.email_verified, true);

    // Another browser logs into the same account.
    const away = await other.context.newPage();
    await away.goto(`${t.app}/`);
    await away.waitForSelector('body[data-ready="true"]', { timeout: 15000 });
    await logIn(away, email, 'correct horse battery');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(() => document.querySelectorAll('#sessions li').length === 2, null, { timeout: 10000 });

    // Forgot → e-mail → reset: every session ends, the other browser's too.
    await page.click('#logout');
    await page.waitForFunction(() => !document.getElementById('logged-out').classList.contains('hidden'));
    await submit(page, 'forgot-form', { email });
    await waitStatus(page, /a reset link is in its inbox/);
    const resetLink = await smtp.link(email, 'reset_password', 1);
    await page.goto(resetLink);
    await page.waitForSelector('#reset:not(.hidden)');
    await submit(page, 'reset-form', { password: 'a whole new password' });
    await waitStatus(page, /Log in with the new one/);
    await logIn(page, email, 'a whole new password');
    await away.reload();
    await away.waitForSelector('body[data-ready="true"]');
    assert.equal(await loggedIn(away), false, 'the other browser was logged out by the reset');
    assert.equal(await away.evaluate(() => window.hub.auth.me()), null);

    // Change password: this session stays, the other one ends again.
    await logIn(away, email, 'a whole new password');
    await submit(page, 'change-form', { current: 'a whole new password', next: 'yet another password' });
    await waitStatus(page, /Password changed/);
    assert.equal(await loggedIn(page), true, 'this session stays');
    await away.reload();
    await away.waitForSelector('body[data-ready="true"]');
    assert.equal(await loggedIn(away), false, 'the other session ended');

    // Delete the account: logged out, and the password no longer works.
    await submit(page, 'delete-form', { password: 'yet another password' });
    await waitStatus(page, /Your account is deleted/);
    await page.waitForFunction(() => !document.getElementById('logged-out').classList.contains('hidden'), null, { timeout: 10000 });
    await submit(page, 'login-form', { email, password: 'yet another password' });
    await waitStatus(page, /wrong/);
    assert.equal(await loggedIn(page), false);
  } finally {
    await other.close();
    await env.stop();
    await smtp.stop();
  }
}

test('accounts in development: register, confirm, forgot and reset, change, delete', async () => {
  await accounts({ name: 'accounts-dev', api: 'http://localhost:8000', app: 'http://localhost:3000' }, { verificationRequired: false });
});

test('accounts across sibling subdomains in production: confirmation required before the first login', async () => {
  await accounts({ name: 'accounts-sibling', api: 'https://api.hub.test', app: 'https://app.hub.test' }, { verificationRequired: true });
});
