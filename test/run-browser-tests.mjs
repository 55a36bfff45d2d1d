// `npm run test:browser [-- --browsers firefox,webkit] [other web-test-runner flags]`: web-test-runner's own
// --browsers flag only works with its --puppeteer/--playwright downloads, so this turns ours into BROWSERS=
// (read by web-test-runner.config.mjs) and hands every other flag to web-test-runner unchanged.
import { spawn } from 'node:child_process';
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

const child = spawn('web-test-runner', rest, {
  stdio: 'inherit',
  env: { ...process.env, ...(browsers ? { BROWSERS: browsers } : {}) },
});
// Ctrl-C reaches the runner too (same process group); it stops its browsers, Xvfb included, then exits.
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
