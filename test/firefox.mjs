// The system Firefox (Debian's firefox-esr) and the preferences every launch here uses, in one place. Puppeteer
// drives it over WebDriver BiDi; test tools cannot download a Firefox build on these machines. Plain JS so that
// .mjs configs and the e2e harness share it.
import { existsSync } from 'node:fs';
import process from 'node:process';

/**
 * Preferences on top of puppeteer's own Firefox profile: the network is closed here, so Firefox's own
 * background requests (captive portal, remote settings, safe browsing) are switched off rather than refused.
 */
export const FIREFOX_PREFS = {
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'services.settings.server': 'http://127.0.0.1:9/',
  'extensions.getAddons.cache.enabled': false,
  'media.gmp-manager.url': 'http://127.0.0.1:9/',
};

/** FIREFOX_PATH, else Debian's firefox-esr (or firefox); throws with what to install when there is none. */
export function firefoxPath() {
  const found = [process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'].find(
    (candidate) => candidate && existsSync(candidate),
  );
  if (!found) throw new Error('No Firefox found: install Debian\'s "firefox-esr" or set FIREFOX_PATH.');
  return found;
}
