// Browser tests (core and element) in Chromium, Firefox and WebKit, each the system's own binary from Debian's
// packages (see test/wtr-launchers.mjs). BROWSERS=firefox (or chromium,webkit …) runs only those engines.
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { selectedEngines } from './test/engines.mjs';
import { LAUNCHERS } from './test/wtr-launchers.mjs';

export default {
  files: ['test/core/**/*.test.ts', 'test/element/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testFramework: { config: { timeout: 10000 } },
  testsFinishTimeout: 600000,
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: 'tsconfig.json' })],
  browsers: selectedEngines().map((engine) => LAUNCHERS[engine]()),
};
