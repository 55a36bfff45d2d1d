// The docs an adopter reads against the code they describe: every server option and CLI flag is in
// docs/server.md, and every relative link of README and docs/ leads to a file of the repository.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { repo } from './pack.ts';

const read = (file: string) => readFile(path.join(repo, file), 'utf8');

describe('docs', () => {
  it('docs/server.md names every UploadServerOptions field and every CLI flag', async () => {
    const doc = await read('docs/server.md');
    const options = await read('src/server/options.ts');
    const body = /export interface UploadServerOptions \{([\s\S]*?)\n\}/.exec(options)?.[1];
    assert.ok(body, 'UploadServerOptions found');
    const fields = [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((match) => match[1]!);
    assert.ok(fields.length > 20, `${fields.length} fields`);
    for (const field of fields)
      assert.ok(doc.includes(`\`${field}\``), `docs/server.md documents \`${field}\``);

    const cli = await read('src/server/cli.ts');
    const flags = [...cli.matchAll(/^ {6}'?([a-z-]+)'?: \{ type:/gm)].map((match) => match[1]!);
    assert.ok(flags.length > 20, `${flags.length} flags`);
    for (const flag of flags) assert.ok(doc.includes(`--${flag}`), `docs/server.md documents --${flag}`);
  });

  it('every relative link in README.md and docs/*.md leads to a file', async () => {
    const pages = [
      'README.md',
      'CHANGELOG.md',
      ...(await readdir(path.join(repo, 'docs')))
        .filter((name) => name.endsWith('.md'))
        .map((name) => `docs/${name}`),
    ];
    for (const page of pages) {
      const text = await read(page);
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!.split('#')[0]!;
        if (!target || /^[a-z]+:/.test(target)) continue;
        assert.ok(existsSync(path.join(repo, path.dirname(page), target)), `${page} links to ${target}`);
      }
    }
  });
});
