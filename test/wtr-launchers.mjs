// web-test-runner launchers for the three engines, each a system binary from Debian's packages (no browser
// downloads work here): Chromium and Firefox through puppeteer-core (CDP and WebDriver BiDi), WebKit through
// WebKitWebDriver driving MiniBrowser on an Xvfb display the launcher starts on initialize and stops on stop.
import { chromeLauncher, puppeteerCore } from '@web/test-runner-chrome';
import { WebdriverLauncher } from '@web/test-runner-webdriver';
import { CHROMIUM_ARGS, chromiumPath } from './chromium.mjs';
import { FIREFOX_PREFS, firefoxPath } from './firefox.mjs';
import { startWebKitStack, webKitCapabilities } from './webkit.mjs';

export function chromiumLauncher() {
  return chromeLauncher({
    launchOptions: { executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS },
  });
}

/**
 * Firefox over WebDriver BiDi with the same launcher class as Chromium: handing it puppeteer-core as its
 * "custom puppeteer" is what lets it launch `browser: 'firefox'` (@web/test-runner-puppeteer would pull in the
 * full puppeteer package, whose install downloads browsers).
 */
export function firefoxLauncher() {
  return chromeLauncher({
    puppeteer: puppeteerCore,
    launchOptions: {
      browser: 'firefox',
      executablePath: firefoxPath(),
      headless: true,
      extraPrefsFirefox: FIREFOX_PREFS,
    },
  });
}

/** WebdriverLauncher whose WebKitWebDriver and Xvfb live exactly as long as the launcher. */
class WebKitLauncher extends WebdriverLauncher {
  constructor() {
    super({
      hostname: '127.0.0.1',
      port: 0,
      path: '/',
      capabilities: webKitCapabilities(),
      logLevel: 'error',
    });
  }

  async initialize(config, testFiles) {
    await super.initialize(config, testFiles);
    this.name = 'WebKit';
    this.stack = await startWebKitStack();
    this.options.port = this.stack.port;
  }

  async stop() {
    await super.stop();
    await this.stack?.stop();
    this.stack = undefined;
  }
}

export function webkitLauncher() {
  return new WebKitLauncher();
}

export const LAUNCHERS = { chromium: chromiumLauncher, firefox: firefoxLauncher, webkit: webkitLauncher };
