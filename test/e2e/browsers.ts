// One small page API over the three engines the end-to-end tests run in, so each test is written once:
// Chromium (puppeteer-core over CDP), Firefox (puppeteer-core over WebDriver BiDi) and WebKit (webdriverio
// against WebKitWebDriver, MiniBrowser on an Xvfb display started and stopped with the browser). Scripts are
// passed as expression strings (or functions without named inner helpers, which are turned into strings):
// that is the one form every protocol evaluates alike.
import puppeteer, { type Browser as PuppeteerBrowser, type Page as PuppeteerPage } from 'puppeteer-core';
import { remote } from 'webdriverio';
import { CHROMIUM_ARGS, chromiumPath } from '../chromium.mjs';
import { FIREFOX_PREFS, firefoxPath } from '../firefox.mjs';
import { startWebKitStack, webKitCapabilities } from '../webkit.mjs';

export type Engine = 'chromium' | 'firefox' | 'webkit';

/** A page in one engine: navigation, script evaluation, polling and file picking. */
export interface E2ePage {
  goto(url: string): Promise<void>;
  /** Evaluates a JS expression in the page (awaiting a promise it yields) and returns its JSON value. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls a JS expression until it is truthy; throws after `timeout` ms (errors while navigating are retried). */
  waitFor(expression: string, options?: { timeout?: number; polling?: number }): Promise<void>;
  /** Picks files into the `<input type=file>` the expression yields, as a user choosing them would. */
  setFiles(inputExpression: string, paths: string[]): Promise<void>;
  /**
   * Drags files or folders from the file system onto the middle of the element the expression yields and
   * drops them, as a user would. Only where the driver can (Chromium, DevTools `Input.dispatchDragEvent`):
   * WebDriver BiDi (Firefox) and WebKitWebDriver have no command that drags files from outside the page.
   */
  dropFiles?(targetExpression: string, paths: string[]): Promise<void>;
  /** Uncaught errors the page reported since it was opened. */
  errors(): Promise<string[]>;
  close(): Promise<void>;
}

export interface E2eBrowser {
  engine: Engine;
  /** The engine's product and version, e.g. "Firefox 153.8.0esr", "WebKitGTK 2.50.6". */
  version(): Promise<string>;
  newPage(): Promise<E2ePage>;
  close(): Promise<void>;
}

/** Turns a function and its JSON arguments into an expression that calls it. */
export function call(fn: (...args: never[]) => unknown, ...args: unknown[]): string {
  return `(${fn.toString()})(${args.map((arg) => JSON.stringify(arg)).join(', ')})`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class PuppeteerE2ePage implements E2ePage {
  readonly #page: PuppeteerPage;
  readonly #errors: string[] = [];

  constructor(page: PuppeteerPage) {
    this.#page = page;
    page.on('pageerror', (error) => this.#errors.push(String(error)));
  }

  async goto(url: string): Promise<void> {
    await this.#page.goto(url);
  }

  evaluate<T>(expression: string): Promise<T> {
    return this.#page.evaluate(expression) as Promise<T>;
  }

  async waitFor(expression: string, { timeout = 10_000, polling = 50 } = {}): Promise<void> {
    await this.#page.waitForFunction(expression, { timeout, polling });
  }

  async setFiles(inputExpression: string, paths: string[]): Promise<void> {
    const handle = await this.#page.evaluateHandle(inputExpression);
    const input = handle.asElement();
    if (!input) throw new Error(`${inputExpression} is not an element`);
    await (input as import('puppeteer-core').ElementHandle<HTMLInputElement>).uploadFile(...paths);
  }

  async errors(): Promise<string[]> {
    return [...this.#errors];
  }

  async close(): Promise<void> {
    await this.#page.close();
  }
}

/** Chromium's page: the one driver here that drags files from the file system into a page. */
class ChromiumE2ePage extends PuppeteerE2ePage {
  readonly #page: PuppeteerPage;

  constructor(page: PuppeteerPage) {
    super(page);
    this.#page = page;
  }

  async dropFiles(targetExpression: string, paths: string[]): Promise<void> {
    const handle = await this.#page.evaluateHandle(targetExpression);
    const box = await handle.asElement()?.boundingBox();
    if (!box) throw new Error(`${targetExpression} is not a rendered element`);
    const point = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const data = { items: [], files: paths, dragOperationsMask: 1 };
    const cdp = await this.#page.createCDPSession();
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) {
      await cdp.send('Input.dispatchDragEvent', { type, ...point, data });
    }
    await cdp.detach();
  }
}

async function launchPuppeteer(engine: 'chromium' | 'firefox'): Promise<E2eBrowser> {
  const browser: PuppeteerBrowser =
    engine === 'chromium'
      ? await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS })
      : await puppeteer.launch({
          browser: 'firefox',
          executablePath: firefoxPath(),
          headless: true,
          extraPrefsFirefox: FIREFOX_PREFS,
        });
  return {
    engine,
    async version() {
      const [product, version] = (await browser.version()).split('/');
      return `${engine === 'chromium' ? 'Chromium' : product === 'firefox' ? 'Firefox' : product} ${version}`;
    },
    newPage: async () => {
      const page = await browser.newPage();
      return engine === 'chromium' ? new ChromiumE2ePage(page) : new PuppeteerE2ePage(page);
    },
    close: () => browser.close(),
  };
}

type WebDriverSession = Awaited<ReturnType<typeof remote>>;

// Collects uncaught errors from the moment it runs; WebDriver has no page-error event, so it is installed
// right after each navigation (an error thrown while the page first loads is not seen here).
const ERROR_HOOK = `if (!window.__e2eErrors) { window.__e2eErrors = [];
  addEventListener('error', (e) => window.__e2eErrors.push(String(e.error ?? e.message)));
  addEventListener('unhandledrejection', (e) => window.__e2eErrors.push(String(e.reason))); }`;

class WebDriverE2ePage implements E2ePage {
  readonly #session: WebDriverSession;
  readonly #errors: string[] = [];

  constructor(session: WebDriverSession) {
    this.#session = session;
  }

  async goto(url: string): Promise<void> {
    await this.#collectErrors();
    await this.#session.navigateTo(url);
    await this.#session.executeScript(ERROR_HOOK, []);
  }

  async evaluate<T>(expression: string): Promise<T> {
    await this.#session.executeScript(ERROR_HOOK, []);
    // The script's last argument is WebDriver's callback; a rejection comes back as a tagged value.
    const outcome = (await this.#session.executeAsyncScript(
      `const done = arguments[arguments.length - 1];
       Promise.resolve().then(() => (0, eval)(arguments[0]))
         .then((value) => done({ value: value === undefined ? null : value }),
               (error) => done({ error: String(error && error.stack || error) }));`,
      [expression],
    )) as { value?: T; error?: string };
    if (outcome.error !== undefined) throw new Error(`Evaluation failed: ${outcome.error}`);
    return outcome.value as T;
  }

  async waitFor(expression: string, { timeout = 10_000, polling = 50 } = {}): Promise<void> {
    const deadline = Date.now() + timeout;
    let last: unknown;
    for (let attempt = 0; attempt < 1_000_000 && Date.now() < deadline; attempt++) {
      try {
        if (await this.#session.executeScript(`return !!(${expression});`, [])) return;
      } catch (error) {
        last = error; // the page may be between two documents
      }
      await sleep(polling);
    }
    throw new Error(`Waiting for ${expression.slice(0, 200)} timed out after ${timeout} ms ${last ?? ''}`);
  }

  async setFiles(inputExpression: string, paths: string[]): Promise<void> {
    const reference = (await this.#session.executeScript(`return ${inputExpression};`, [])) as Record<
      string,
      string
    >;
    const elementId = reference && Object.values(reference)[0];
    if (!elementId) throw new Error(`${inputExpression} is not an element`);
    // WebDriver's "Element Send Keys" on a file input picks the files, one path per line.
    await this.#session.elementSendKeys(elementId, paths.join('\n'));
  }

  async errors(): Promise<string[]> {
    await this.#collectErrors();
    return [...this.#errors];
  }

  async #collectErrors(): Promise<void> {
    const seen = (await this.#session
      .executeScript('const seen = window.__e2eErrors || []; window.__e2eErrors = []; return seen;', [])
      .catch(() => [])) as string[];
    this.#errors.push(...seen);
  }

  async close(): Promise<void> {
    await this.#collectErrors();
    await this.#session.deleteSession();
  }
}

/**
 * WebKit: one Xvfb and one WebKitWebDriver per browser; each page is a WebDriver session (a MiniBrowser).
 * WebKitWebDriver holds one session at a time, so a WebKit browser has at most one page open.
 */
async function launchWebKit(): Promise<E2eBrowser> {
  const stack = await startWebKitStack();
  let current: WebDriverSession | undefined;
  let browserVersion: string | undefined;
  const open = async () => {
    if (current) throw new Error('WebKitWebDriver holds one session at a time: close the open page first.');
    const session = await remote({
      hostname: '127.0.0.1',
      port: stack.port,
      path: '/',
      capabilities: webKitCapabilities() as WebdriverIO.Capabilities,
      logLevel: 'error',
      connectionRetryCount: 0,
    });
    browserVersion = (session.capabilities as { browserVersion?: string }).browserVersion ?? '?';
    current = session;
    return session;
  };
  const end = async (session: WebDriverSession) => {
    if (current === session) current = undefined;
    await session.deleteSession();
  };
  return {
    engine: 'webkit',
    async version() {
      if (browserVersion === undefined) await end(await open());
      return `WebKitGTK ${browserVersion}`;
    },
    async newPage() {
      const session = await open();
      // Uploads of tens of MiB run inside one evaluate(); the tests bound them with their own timeouts.
      await session.setTimeout({ script: 600_000, pageLoad: 60_000 });
      const page = new WebDriverE2ePage(session);
      const close = page.close.bind(page);
      page.close = async () => {
        try {
          await close();
        } finally {
          if (current === session) current = undefined;
        }
      };
      return page;
    },
    async close() {
      if (current) await end(current).catch(() => undefined);
      await stack.stop();
    },
  };
}

export function launchEngine(engine: Engine): Promise<E2eBrowser> {
  return engine === 'webkit' ? launchWebKit() : launchPuppeteer(engine);
}
