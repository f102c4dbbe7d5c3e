// Production-like HTTPS on one machine: certificates from `authjar dev
// certs`, and a HOME whose NSS database trusts the local CA for real, so
// Chromium needs no --ignore-certificate-errors.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AUTHJAR_BIN } from './servers.js';

/** A CA and one certificate for `names`; returns the file paths and the instructions `authjar dev certs` printed. */
export function devCerts(names) {
  const dir = mkdtempSync(join(tmpdir(), 'authjar-certs-'));
  const instructions = execFileSync(AUTHJAR_BIN, ['dev', 'certs', ...names, '--out', dir], { stdio: 'pipe' }).toString();
  return {
    dir,
    instructions,
    ca: join(dir, 'authjar-dev-ca.pem'),
    cert: join(dir, `${names[0]}.pem`),
    key: join(dir, `${names[0]}-key.pem`),
  };
}

/** A HOME with an NSS database that trusts `caFile` (certutil from libnss3-tools). */
export function trustingHome(caFile) {
  const home = mkdtempSync(join(tmpdir(), 'authjar-home-'));
  const db = join(home, '.pki', 'nssdb');
  mkdirSync(db, { recursive: true });
  execFileSync('certutil', ['-d', `sql:${db}`, '-N', '--empty-password']);
  execFileSync('certutil', ['-d', `sql:${db}`, '-A', '-t', 'C,,', '-n', 'authjar-dev-ca', '-i', caFile]);
  return home;
}
