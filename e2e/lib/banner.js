// Reading authjar's start-up banner: the cookie table it promises, and the
// cookies the browser actually holds (through the DevTools protocol).

/** The rows of the banner's cookie table: {name, secure, httpOnly, sameSite, path, domain, partitioned}. */
export function bannerCookies(banner) {
  const lines = banner.split('\n');
  const start = lines.findIndex((l) => /^\s+name\s+Secure\s+HttpOnly/.test(l));
  if (start < 0) throw new Error(`no cookie table in the banner:\n${banner}`);
  const rows = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^\s+\S/.test(line) || /^\s+CSRF token:/.test(line)) break;
    const m = line.trim().match(/^(\S+)\s+(yes|no)\s+(yes|no)\s+(\S+)\s+(\S+)\s+(\(host-only: (\S+)\)|\S+)\s+(yes|no)\s+(\S+)$/);
    if (!m) throw new Error(`cannot read banner row: ${line}`);
    rows.push({
      name: m[1], secure: m[2] === 'yes', httpOnly: m[3] === 'yes', sameSite: m[4], path: m[5],
      domain: m[7] ?? m[6], hostOnly: Boolean(m[7]), partitioned: m[8] === 'yes',
    });
  }
  return rows;
}

/** Every cookie in the browser's jar, from CDP `Storage.getCookies` in Chromium (partitioned ones included). */
export async function jarCookies(context, page) {
  // Firefox (e2e/lib/firefox.js) reads its own cookie service.
  if (typeof context.jarCookies === 'function') return context.jarCookies();
  const cdp = await context.newCDPSession(page);
  const { cookies } = await cdp.send('Storage.getCookies');
  await cdp.detach();
  return cookies.map((c) => ({
    name: c.name, secure: c.secure, httpOnly: c.httpOnly, sameSite: c.sameSite ?? 'unset', path: c.path,
    domain: c.domain.replace(/^\./, ''), hostOnly: !c.domain.startsWith('.'), partitioned: Boolean(c.partitionKey),
    value: c.value,
  }));
}
