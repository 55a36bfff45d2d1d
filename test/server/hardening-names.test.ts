// Hostile names and folder paths on the real filesystem (issue 15, wave 2), through the CLI: `..` in every
// spelling (percent-encoded, fullwidth, one-dot leaders, backslashes, drive letters, UNC), NUL and control
// characters, bidi overrides, Windows device names and trailing dots, names at and past the 255-byte
// component limit in multi-byte UTF-8, combining marks, lone surrogates, and names that collide once
// normalised (NFC/NFD). For each: stored (200), once, inside the folder, every component a name any common
// filesystem takes, the FIN answer naming exactly the file that holds the bytes sent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { startCli, type CliProcess } from '../helpers/cli-process.ts';
import { bytes, Peer, readStored, sha256, tempDir } from './peer.ts';

const NAMES = [
  '..',
  '.',
  '...',
  '../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc',
  '\uff0e\uff0e\uff0f\uff0e\uff0e\uff0fetc', // fullwidth ．．／
  '\u2024\u2024/x', // one-dot leaders
  'C:\\Windows\\System32\\x.dll',
  '\\\\server\\share\\x',
  'a\u0000b.txt',
  '\u0007bell\u001f\u007f\u0085.txt',
  '\u202egnp.exe',
  'zero\u200bwidth\ufeff.txt',
  'CON',
  'con.txt',
  'PRN.log',
  'AUX.tar.gz',
  'NUL',
  'COM1',
  'LPT9.txt',
  'COM\u00b9',
  'CONIN$',
  'trail. . .',
  'trail   ',
  ' .hidden',
  'a<b>c:"d|e?f*g',
  'a'.repeat(300),
  '\u00e9'.repeat(200), // 400 bytes of 2-byte characters
  '\u{1f600}'.repeat(100), // 400 bytes of 4-byte characters
  `${'\u4e2d'.repeat(84)}.txt`, // 252 + 4 bytes: just past 255
  `${'a'.repeat(250)}.${'b'.repeat(60)}`,
  `e${'\u0301'.repeat(5000)}.txt`,
  `x${'\ud800'}y.txt`,
  'caf\u00e9.txt', // NFC
  'cafe\u0301.txt', // NFD: the same name once normalised
];
const FOLDERS = [
  '../../..',
  '..\\..',
  '/etc',
  '\uff0e\uff0e/\uff0e\uff0e',
  'con/aux/nul',
  'a/./b/../c',
  `${'\u00e8'.repeat(150)}/x`,
];

/** What every component of a stored path must be: a name ext4, NTFS, APFS and FAT-style shares all take. */
function checkComponent(component: string, where: string): void {
  assert.ok(Buffer.byteLength(component) <= 255, `${where}: ${Buffer.byteLength(component)} bytes`);
  assert.ok(component !== '' && component !== '.' && component !== '..', `${where}: ${component}`);
  assert.doesNotMatch(
    component,
    // eslint-disable-next-line no-control-regex -- control characters are what must not be there
    /[\u0000-\u001f\u007f-\u009f\\/<>:"|?*\u202a-\u202e\u2066-\u2069\u200b]/u,
    where,
  );
  assert.doesNotMatch(component, /[. ]$/, `${where}: trailing dot or space`);
  assert.doesNotMatch(component, /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\.|$)/i, where);
  assert.equal(component, component.normalize('NFC'), `${where}: NFC`);
  assert.doesNotMatch(component, /\p{Cs}/u, `${where}: no lone surrogate`);
}

/** Every file under `dir` (but .partial), relative, after checking nothing is a symlink. */
async function walk(dir: string, at = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(path.join(dir, at))) {
    if (at === '' && entry === '.partial') continue;
    const relative = at ? `${at}/${entry}` : entry;
    const stats = await lstat(path.join(dir, relative));
    assert.ok(!stats.isSymbolicLink(), relative);
    if (stats.isDirectory()) files.push(...(await walk(dir, relative)));
    else files.push(relative);
  }
  return files;
}

describe('hostile names and folders on the real filesystem (CLI)', () => {
  let cli: CliProcess;
  let dir: string;
  before(async () => {
    dir = await realpath(await tempDir());
    cli = await startCli(['--dir', dir, '--max-connection-rate-per-client', '1000']);
  });
  after(() => cli.stop());

  async function upload(filename: string, folder: string | undefined, seed: number) {
    const data = bytes(3000 + seed, seed);
    const peer = await Peer.connect(cli.url);
    const started = await peer.ask(
      `STOR: ${JSON.stringify({
        filename,
        size: data.length,
        type: 'binary',
        v: 2,
        ...(folder !== undefined ? { path: folder } : {}),
        ext: { binary: true, window: 4, fin: true, checksum: ['sha256'] },
      })}`,
    );
    const where = `${JSON.stringify(filename)} in ${JSON.stringify(folder)}`;
    assert.equal(started.code, 200, `${where}: ${JSON.stringify(started)}`);
    assert.equal((await peer.ask(data)).code, 200);
    const checksum = `sha256:${createHash('sha256').update(data).digest('base64')}`;
    const done = await peer.ask(`FIN: ${JSON.stringify({ size: data.length, checksum })}`);
    assert.equal(done.code, 200, `${where}: ${JSON.stringify(done)}`);
    peer.close();
    return { data, stored: done.filename as string };
  }

  it('each name: stored once, inside the folder, a sane component, the answer names it', async () => {
    const seen = new Set<string>();
    for (const [index, name] of NAMES.entries()) {
      const before = new Set(await walk(dir));
      const { data, stored } = await upload(name, undefined, index + 1);
      const added = (await walk(dir)).filter((file) => !before.has(file));
      assert.deepEqual(added, [stored], `${JSON.stringify(name)}: one new file, the one named in the answer`);
      assert.ok(!stored.includes('/'), `${JSON.stringify(name)}: directly in the folder`);
      checkComponent(stored, JSON.stringify(name));
      assert.equal(sha256(await readStored(dir, stored)), sha256(data));
      assert.ok(!seen.has(stored), 'no file replaced');
      seen.add(stored);
    }
    // The NFC and NFD spellings of one name are one name: the second is a numbered copy, not a look-alike.
    assert.ok(seen.has('caf\u00e9.txt') && seen.has('caf\u00e9 (1).txt'), [...seen].join(', '));
  });

  it('a folder level taken by a file → STOR 409 naming it, before any byte is sent', async () => {
    await upload('album', undefined, 200);
    const peer = await Peer.connect(cli.url);
    const refused = await peer.ask(
      `STOR: ${JSON.stringify({ filename: 'x.jpg', size: 10, type: 'binary', v: 2, path: 'album/2024', ext: { binary: true, fin: true } })}`,
    );
    assert.equal(refused.type, 'STOR', JSON.stringify(refused));
    assert.equal(refused.code, 409);
    assert.match(refused.message as string, /"album"/);
    assert.doesNotMatch(refused.message as string, /\/tmp/);
    await peer.waitClose();
    assert.ok(cli.running());
  });

  it('each folder path: inside the folder, every level a sane component', async () => {
    for (const [index, folder] of FOLDERS.entries()) {
      const { data, stored } = await upload('f.bin', folder, 100 + index);
      const real = await realpath(path.join(dir, stored));
      assert.ok(real.startsWith(dir + path.sep), `${JSON.stringify(folder)} → ${real}`);
      for (const component of stored.split('/')) checkComponent(component, JSON.stringify(folder));
      assert.equal(sha256(await readStored(dir, stored)), sha256(data));
    }
  });
});
