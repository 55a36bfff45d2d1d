// Fills packages/server/dist (the `ws-file-upload-server` package) from the root build: the server and the
// protocol it shares with the browser code, as tsc emitted them into dist/. The sources stay in src/server and
// src/protocol; the relative imports between the two (`../protocol/index.js`) hold in the copy as well.
/* global console */
import { cp, mkdir, rm, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import process from 'node:process';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const target = path.join(root, 'packages', 'server', 'dist');
const parts = ['server', 'protocol'];

for (const part of parts) {
  const from = path.join(root, 'dist', part);
  if (!(await stat(from).catch(() => null))?.isDirectory()) {
    console.error(`${path.relative(root, from)} is missing: run \`npm run build\` at the root first.`);
    process.exit(1);
  }
}
await rm(target, { recursive: true, force: true });
await mkdir(target, { recursive: true });
for (const part of parts)
  await cp(path.join(root, 'dist', part), path.join(target, part), { recursive: true });
console.log(`packages/server/dist: ${parts.map((part) => `dist/${part}`).join(' + ')}`);
