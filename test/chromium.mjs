// The system Chromium and the flags every launch here uses, in one place: test tools cannot download a
// browser on these machines, and without the background-networking flags Chromium's own requests are refused
// by the closed network many at a time. Plain JS so that .mjs configs and scripts can import it too.
import { existsSync } from 'node:fs';
import process from 'node:process';

/** Flags for headless Chromium as root on a closed network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

/** CHROME_PATH, else Debian's chromium; throws with what to install when there is none. */
export function chromiumPath() {
  const found = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
    (candidate) => candidate && existsSync(candidate),
  );
  if (!found) throw new Error('No Chromium found: install Debian\'s "chromium" or set CHROME_PATH.');
  return found;
}
