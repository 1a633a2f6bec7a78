/**
 * Finds a Chromium for the end-to-end tests without downloading one (Playwright's own download is
 * blocked here): CHROMIUM_PATH, Debian's /usr/bin/chromium, Playwright's bundled browser, or, as
 * root, Debian's package installed on the spot. Otherwise it fails with what to do: e2e tests are
 * never skipped silently.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { chromium } from '@playwright/test';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist.`);
    return fromEnv;
  }
  if (fs.existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  const bundled = safeBundledPath();
  if (bundled && fs.existsSync(bundled)) return bundled;
  if (process.getuid?.() === 0) {
    console.log('e2e: no Chromium found; installing Debian\'s "chromium" package (apt-get)…');
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (fs.existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  }
  throw new Error(
    'No Chromium for the end-to-end tests. Install one (Debian: "apt-get install chromium") or set CHROMIUM_PATH to a Chromium binary.',
  );
}

function safeBundledPath(): string | null {
  try {
    return chromium.executablePath();
  } catch (err) {
    console.log(`e2e: Playwright has no bundled Chromium (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}
