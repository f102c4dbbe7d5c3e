// Trusting `authjar dev certs`' CA in Firefox: the NSS database under HOME
// (what Chromium on Linux reads) does nothing for Firefox, and the command
// authjar prints for Firefox, run as printed on the profile, does it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchFirefox, printedFirefoxTrust } from '../lib/firefox.js';
import { startLab } from '../lib/cookie-lab.js';
import { sharedCerts } from '../lib/util.js';

const tls = sharedCerts();
let lab;
before(async () => { lab = await startLab(tls.certs); });
after(async () => { await lab?.stop(); });

const rules = () => `MAP hub.test:443 127.0.0.1:${lab.httpsPort}`;

test('authjar dev certs prints a Firefox line that names the profile and the CA', () => {
  assert.deepEqual(printedFirefoxTrust(tls.certs.instructions), ['certutil', '-d', 'sql:PROFILE', '-A', '-t', 'C,,', '-n', 'authjar-dev-ca', '-i', tls.certs.ca]);
});

test('Firefox ignores the CA in $HOME/.pki/nssdb', async () => {
  const firefox = await launchFirefox({ hostRules: rules(), home: tls.home });
  try {
    const page = await firefox.context.newPage();
    await assert.rejects(page.goto('https://hub.test/'), /SEC_ERROR_UNKNOWN_ISSUER/);
  } finally {
    await firefox.close();
  }
});

test('Firefox trusts the CA after the printed certutil command on its profile', async () => {
  const firefox = await launchFirefox({ hostRules: rules(), certs: tls.certs });
  try {
    const page = await firefox.context.newPage();
    await page.goto('https://hub.test/');
    assert.equal(await page.evaluate(() => window.isSecureContext), true);
    assert.equal(await page.evaluate(() => document.title), 'cookie lab');
  } finally {
    await firefox.close();
  }
});
