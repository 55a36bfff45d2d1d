// `npm run test:browser [-- --browsers firefox,webkit] [other web-test-runner flags]`: web-test-runner's own
// --browsers flag only works with its --puppeteer/--playwright downloads, so this turns ours into BROWSERS=
// (read by web-test-runner.config.mjs) and hands every other flag to web-test-runner unchanged.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { selectedEngines } from './engines.mjs';

const rest = [];
let browsers = process.env.BROWSERS;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg.startsWith('--browsers=')) browsers = arg.slice('--browsers='.length);
  else if (arg === '--browsers') {
    const names = [];
    while (i + 1 < args.length && !args[i + 1].startsWith('-')) names.push(args[++i]);
    browsers = names.join(',');
  } else rest.push(arg);
}
selectedEngines(browsers); // an unknown name fails here, with the list of known ones

/** The path of web-test-runner's bin script, found by node's own resolution (its package does not export it). */
function runnerBin() {
  let dir = dirname(createRequire(import.meta.url).resolve('@web/test-runner'));
  for (let depth = 0; depth < 5; depth++, dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (manifest.name === '@web/test-runner') return join(dir, manifest.bin['web-test-runner']);
    } catch {
      // no package.json at this level: look one folder up
    }
  }
  throw new Error('cannot find the @web/test-runner package; run npm ci first');
}

// Run with this node rather than through PATH, so that `node test/run-browser-tests.mjs` works without npm
// putting node_modules/.bin on PATH.
const child = spawn(process.execPath, [runnerBin(), ...rest], {
  stdio: 'inherit',
  env: { ...process.env, ...(browsers ? { BROWSERS: browsers } : {}) },
});
// Ctrl-C reaches the runner too (same process group); it stops its browsers, Xvfb included, then exits.
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
