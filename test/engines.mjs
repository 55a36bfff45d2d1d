// Which browser engines a test run uses: all three (Chromium, Firefox, WebKit) unless BROWSERS names some,
// e.g. BROWSERS=firefox or BROWSERS=chromium,webkit. Shared by web-test-runner's config and the e2e tests.
import process from 'node:process';

export const ENGINES = ['chromium', 'firefox', 'webkit'];

/** The engines asked for by BROWSERS (comma or space separated), else all; throws on a name it does not know. */
export function selectedEngines(value = process.env.BROWSERS) {
  if (!value || !value.trim()) return [...ENGINES];
  const asked = value
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((name) => name.toLowerCase());
  const unknown = asked.filter((name) => !ENGINES.includes(name));
  if (unknown.length > 0)
    throw new Error(`BROWSERS names unknown engine(s) ${unknown.join(', ')}; known: ${ENGINES.join(', ')}`);
  return ENGINES.filter((name) => asked.includes(name));
}
