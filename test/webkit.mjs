// WebKit for the tests: Debian's WebKitGTK MiniBrowser, driven through WebKitWebDriver (W3C WebDriver) on an
// Xvfb display that this module starts and stops itself (by PID), so `npm test` needs no X server or wrapper
// script. Plain JS so that the web-test-runner config and the e2e harness (TypeScript) share it.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import process from 'node:process';
import { setTimeout, clearTimeout } from 'node:timers';

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib'];

/** WEBKIT_MINIBROWSER, else Debian's MiniBrowser (webkit2gtk-4.1 or 4.0); throws with what to install. */
export function miniBrowserPath() {
  const candidates = [process.env.WEBKIT_MINIBROWSER];
  for (const lib of LIB_DIRS) {
    if (!existsSync(lib)) continue;
    for (const entry of readdirSync(lib)
      .filter((name) => /^webkit2?gtk-[\d.]+$/.test(name))
      .sort()
      .reverse())
      candidates.push(`${lib}/${entry}/MiniBrowser`);
  }
  const found = candidates.find((candidate) => candidate && existsSync(candidate));
  if (!found)
    throw new Error('No MiniBrowser found: install Debian\'s "webkit2gtk-driver" or set WEBKIT_MINIBROWSER.');
  return found;
}

/** WEBKIT_WEBDRIVER, else /usr/bin/WebKitWebDriver; throws with what to install. */
export function webKitDriverPath() {
  const found = [process.env.WEBKIT_WEBDRIVER, '/usr/bin/WebKitWebDriver'].find((c) => c && existsSync(c));
  if (!found) throw new Error('No WebKitWebDriver found: install Debian\'s "webkit2gtk-driver".');
  return found;
}

/**
 * W3C capabilities that make WebKitWebDriver start MiniBrowser in automation mode. WebKitWebDriver 2.50 speaks
 * classic WebDriver only: webdriverio's default ask for a BiDi socket (webSocketUrl) fails the session match.
 */
export function webKitCapabilities() {
  return {
    browserName: 'MiniBrowser',
    'wdio:enforceWebDriverClassic': true,
    'webkitgtk:browserOptions': { binary: miniBrowserPath(), args: ['--automation'] },
  };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Every child started here and not yet stopped: killed by PID if this process exits without stopping them (a
// test run that dies in a hook, a runner that exits on a timeout), so no Xvfb or driver is left behind.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function track(child) {
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Stops a child we started, by its PID: TERM, then KILL if it is still there after a bounded wait. */
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * An Xvfb display of its own: `-displayfd` makes Xvfb pick a free display number and tell it, so parallel
 * runs never race for one. Resolves to { display: ':N', pid, stop() }.
 */
export function startXvfb() {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
        stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      }),
    );
    let told = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Xvfb did not tell its display within 20 s: ${stderr.slice(-500)}`));
    }, 20_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb could not start (install Debian's "xvfb"): ${error.message}`));
    });
    const exitedEarly = (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}) before telling its display: ${stderr.slice(-500)}`));
    };
    child.once('exit', exitedEarly);
    child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
    child.stdio[3].on('data', (chunk) => {
      told += chunk;
      if (!told.includes('\n')) return;
      clearTimeout(timer);
      child.removeListener('exit', exitedEarly);
      resolve({ display: `:${told.trim()}`, pid: child.pid, stop: () => stopChild(child) });
    });
  });
}

/**
 * WebKitWebDriver on 127.0.0.1 at a port picked now, its browsers shown on `display`. Resolves to
 * { port, pid, stop() } once the driver answers /status (polled at most 100 times, 100 ms apart).
 */
export async function startWebKitDriver(display) {
  const port = await freePort();
  const child = track(
    spawn(webKitDriverPath(), [`--port=${port}`, '--host=local'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, DISPLAY: display },
    }),
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2000)));
  const failed = new Promise((_, reject) => {
    child.once('error', (error) => reject(new Error(`WebKitWebDriver could not start: ${error.message}`)));
    child.once('exit', (code) =>
      reject(new Error(`WebKitWebDriver exited (${code}): ${stderr.slice(-500)}`)),
    );
  });
  failed.catch(() => undefined);
  for (let attempt = 0; attempt < 100; attempt++) {
    const up = await Promise.race([
      globalThis.fetch(`http://127.0.0.1:${port}/status`).then(
        (response) => response.ok,
        () => false,
      ),
      failed,
    ]);
    if (up) return { port, pid: child.pid, stop: () => stopChild(child) };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stopChild(child);
  throw new Error(`WebKitWebDriver did not answer on port ${port} within 10 s: ${stderr.slice(-500)}`);
}

/** Xvfb plus WebKitWebDriver, stopped together (driver first). */
export async function startWebKitStack() {
  const xvfb = await startXvfb();
  try {
    const driver = await startWebKitDriver(xvfb.display);
    return {
      display: xvfb.display,
      port: driver.port,
      async stop() {
        await driver.stop();
        await xvfb.stop();
      },
    };
  } catch (error) {
    await xvfb.stop();
    throw error;
  }
}
