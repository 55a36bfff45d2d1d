// The layering of ARCHITECTURE.md, checked on the sources (eslint enforces it too, while editing):
// protocol imports nothing; core and element never reach the server or Node; the server never the browser.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

const RULES: Record<string, RegExp[]> = {
  protocol: [/^(?!\.\/)/, /\.\.\//],
  core: [/\/(server|element)\//, /^node:/, /^ws$/, /^lit/],
  element: [/\/server\//, /^node:/, /^ws$/],
  server: [/\/(core|element)\//, /^lit/],
};

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

describe('layering', () => {
  for (const [layer, forbidden] of Object.entries(RULES)) {
    it(`src/${layer} imports only what its layer may`, async () => {
      for (const file of await sources(path.join('src', layer))) {
        const text = await readFile(file, 'utf8');
        const specifiers = [
          ...text.matchAll(/(?:^|\s)(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g),
        ].map((m) => m[1]!);
        for (const specifier of specifiers) {
          for (const rule of forbidden) {
            assert.equal(rule.test(specifier), false, `${file} imports ${specifier}`);
          }
        }
      }
    });
  }
});
