// Sums the self time of a V8 .cpuprofile (node --cpu-prof) by function and by file, for a quick look without
// DevTools. Usage: node bench/cpuprofile-summary.mjs <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpuprofile-summary.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// timeDeltas[i] is the time before samples[i]: the time of a sample is charged to its node.
const self = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
});
const shorten = (url) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, '~/')
    .replace(/.*\/(dist|src|bench)\//, '$1/');
const byFunction = new Map();
const byUrl = new Map();
for (const [id, time] of self) {
  const { callFrame } = byId.get(id);
  const url = shorten(callFrame.url) || '(native/VM)';
  const name = `${callFrame.functionName || '(anonymous)'}  ${url}${callFrame.url ? ':' + (callFrame.lineNumber + 1) : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + time);
  byUrl.set(url, (byUrl.get(url) ?? 0) + time);
}
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [name, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `${((100 * time) / total).toFixed(1).padStart(5)} %  ${(time / 1e6).toFixed(2).padStart(7)} s  ${name}`,
    );
  }
};
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled`);
print('Self time by function', byFunction);
print('Self time by file', byUrl);
