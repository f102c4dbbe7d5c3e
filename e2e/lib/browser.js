// Launching Debian's Chromium with playwright-core: never a downloaded
// browser, never Playwright's default switches (they disable third-party
// storage partitioning and change cookie behaviour), a fresh profile each time.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--remote-debugging-pipe',
];

/**
 * A browser context on a fresh profile. `hostRules` maps fake names to
 * loopback (`--host-resolver-rules`); `home` is the HOME whose NSS database
 * trusts the local CA.
 */
export async function launch({ hostRules, home } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is required at ${CHROMIUM} (apt-get install chromium)`);
  const env = { ...process.env };
  if (home) env.HOME = home;
  // A Chromium start that has not connected within 45 s is stuck (seen
  // rarely on a loaded machine): playwright kills it, and a fresh start on a
  // new profile is tried, at most twice more.
  let context;
  let profile;
  for (let attempt = 1; ; attempt++) {
    profile = mkdtempSync(join(tmpdir(), 'authjar-chromium-'));
    const args = [...FLAGS, `--user-data-dir=${profile}`];
    if (hostRules) args.push(`--host-resolver-rules=${hostRules}`);
    try {
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        ignoreDefaultArgs: true,
        args,
        env,
        headless: true,
        timeout: 45000,
      });
      break;
    } catch (e) {
      rmSync(profile, { recursive: true, force: true });
      if (attempt >= 3 || !/Timeout/.test(String(e?.message ?? e))) throw e;
      console.error(`Chromium did not start within 45 s (attempt ${attempt}); starting it again`);
    }
  }
  const close = async () => {
    await context.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/** The engines the cross-engine suites run in, one after the other. */
export const ENGINES = ['chromium', 'firefox'];

/**
 * A fresh browser of `engine` ('chromium' or 'firefox') with the same
 * options as `launch`, plus `certs` (e2e/lib/tls.js `devCerts`), whose CA
 * Firefox trusts in its own profile (Chromium trusts it through `home`).
 */
export async function launchEngine(engine, { hostRules, home, certs } = {}) {
  if (engine === 'chromium') return { ...(await launch({ hostRules, home })), engine };
  if (engine === 'firefox') {
    const { launchFirefox } = await import('./firefox.js');
    return launchFirefox({ hostRules, certs });
  }
  throw new Error(`unknown browser engine: ${engine}`);
}
