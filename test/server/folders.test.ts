// Folders (issue 14): a STOR's optional `path` is recreated inside the upload folder, each segment sanitised
// like a file name, never outside the folder, depth and length bounded, or dropped with flattenFolders.
// Against a real server on a real socket; stored files are compared by SHA-256.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { FOLDER_PATH_DEFAULTS, sanitizeFolderPath } from '../../src/server/folder-path.ts';
import { bytes, Peer, sha256, startServer, tempDir } from './peer.ts';

type Started = Awaited<ReturnType<typeof startServer>>;
let started: Started | undefined;
const peers: Peer[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  await started?.stop();
  started = undefined;
});

const V2_EXT = { binary: true, window: 4, chunk: 65536, resume: null, checksum: ['sha256'], fin: true };
const digest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('base64')}`;

/** Every file under `dir` (the partial folder excluded), as relative paths with `/`. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
    .filter((name) => !name.startsWith('.partial/'))
    .sort();
}

async function connect(url: string): Promise<Peer> {
  const peer = await Peer.connect(url);
  peers.push(peer);
  return peer;
}

/** A v1 upload of `data` with a folder path; returns the STOR answer and the last DATA answer. */
async function uploadV1(url: string, filename: string, folder: string | undefined, data: Buffer) {
  const peer = await connect(url);
  const body = { filename, size: data.length, type: 'binary', parameters: [], path: folder };
  const stor = await peer.ask(`STOR: ${JSON.stringify(body)}`);
  if (stor.code !== 200) return { stor, last: undefined };
  const last = await peer.ask(data);
  return { stor, last };
}

/** A v2 upload with FIN; returns the FIN answer. */
async function uploadV2(url: string, filename: string, folder: string, data: Buffer) {
  const peer = await connect(url);
  const body = { filename, size: data.length, type: 'binary', path: folder, v: 2, ext: V2_EXT };
  const stor = await peer.ask(`STOR: ${JSON.stringify(body)}`);
  assert.equal(stor.code, 200, JSON.stringify(stor));
  assert.equal((await peer.ask(data)).code, 200);
  return peer.ask(`FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`);
}

describe('sanitizeFolderPath', () => {
  const clean = (raw: string) => {
    const result = sanitizeFolderPath(raw, FOLDER_PATH_DEFAULTS);
    assert.ok(result.ok, `${JSON.stringify(raw)} is accepted`);
    return result.folder;
  };

  it('keeps a plain relative path', () => {
    assert.equal(clean('photos/2024/summer'), 'photos/2024/summer');
  });

  it('drops parent, current and empty segments: the result stays inside the folder', () => {
    assert.equal(clean('../../etc'), 'etc');
    assert.equal(clean('a/../../b/./c//'), 'a/b/c');
    assert.equal(clean('..'), '');
    assert.equal(clean('....//. ./'), '');
  });

  it('makes an absolute path relative', () => {
    assert.equal(clean('/etc/cron.d'), 'etc/cron.d');
    assert.equal(clean('//server/share/x'), 'server/share/x');
  });

  it('splits on backslashes and neutralises Windows drive letters and device names', () => {
    assert.equal(clean('C:\\Windows\\System32'), 'C_/Windows/System32');
    assert.equal(clean('a\\..\\..\\b'), 'a/b');
    assert.equal(clean('con/aux.txt/nul'), '_con/_aux.txt/_nul');
  });

  it('removes NUL, controls and bidi overrides from segments', () => {
    assert.equal(clean('a\u0000b/c\u202ed/\u0001'), 'ab/cd');
  });

  it('keeps many-byte UTF-8, NFC-normalised, and cuts a segment at the file-name limit', () => {
    assert.equal(clean('Фото/写真/😀'), 'Фото/写真/😀');
    assert.equal(clean('e\u0301'), '\u00e9');
    const folder = clean('€'.repeat(300));
    assert.ok(Buffer.byteLength(folder) <= 200, 'one segment at most 200 bytes');
  });

  it('refuses a path deeper than the limit: every segment but empty ones and `.` counts, `..` too', () => {
    const limits = { maxDepth: 3, maxLength: 1024 };
    assert.ok(sanitizeFolderPath('a/b/c', limits).ok);
    assert.ok(sanitizeFolderPath('a//b/./c/', limits).ok);
    assert.equal(sanitizeFolderPath('a/b/../c', limits).ok, false);
    const deep = sanitizeFolderPath('a/b/c/d', limits);
    assert.equal(deep.ok, false);
    assert.match(!deep.ok ? deep.message : '', /too deep: the limit is 3 levels/);
  });

  it('refuses a path longer than the limit, as sent and as stored', () => {
    const limits = { maxDepth: 100, maxLength: 20 };
    assert.equal(sanitizeFolderPath('a'.repeat(21), limits).ok, false);
    // 10 characters, 30 bytes in UTF-8.
    const stored = sanitizeFolderPath('€'.repeat(10), limits);
    assert.equal(stored.ok, false);
    assert.match(!stored.ok ? stored.message : '', /too long: the limit is 20 bytes/);
  });
});

describe('folders on the reference server', () => {
  it('recreates a three-level tree, identical files (v1, then v2 with the stored path in FIN)', async () => {
    started = await startServer();
    const files = [
      { folder: 'top', name: 'a.txt', data: bytes(1000, 1) },
      { folder: 'top/mid', name: 'b.bin', data: bytes(70_000, 2) },
      { folder: 'top/mid/low', name: 'c.bin', data: bytes(5000, 3) },
    ];
    for (const file of files.slice(0, 2)) {
      const { stor, last } = await uploadV1(started.url, file.name, file.folder, file.data);
      assert.equal(stor.code, 200);
      assert.equal(last?.code, 200);
    }
    const low = files[2]!;
    const fin = await uploadV2(started.url, low.name, low.folder, low.data);
    assert.equal(fin.code, 200);
    assert.equal(fin.filename, 'top/mid/low/c.bin', 'the FIN answer names the stored relative path');
    assert.deepEqual(await tree(started.dir), ['top/a.txt', 'top/mid/b.bin', 'top/mid/low/c.bin']);
    for (const file of files) {
      const stored: Buffer = await readFile(path.join(started.dir, file.folder, file.name));
      assert.equal(sha256(stored), sha256(file.data), `${file.folder}/${file.name} is identical`);
    }
  });

  it('numbers a name taken inside a recreated folder', async () => {
    started = await startServer();
    assert.equal((await uploadV2(started.url, 'x.txt', 'd', bytes(10, 1))).filename, 'd/x.txt');
    assert.equal((await uploadV2(started.url, 'x.txt', 'd', bytes(10, 2))).filename, 'd/x (1).txt');
  });

  it('keeps hostile paths inside the upload folder', async () => {
    started = await startServer();
    const hostile = [
      '../../outside',
      '/etc',
      'C:\\Windows',
      'a\u0000b',
      '\\\\server\\share',
      '..\\..\\up',
      'ok/../../..',
    ];
    for (const [i, folder] of hostile.entries()) {
      const fin = await uploadV2(started.url, `h${i}.txt`, folder, bytes(8, i + 1));
      assert.equal(fin.code, 200, `${JSON.stringify(folder)}: ${JSON.stringify(fin)}`);
      const stored = path.resolve(started.dir, String(fin.filename));
      assert.ok(stored.startsWith(started.dir + path.sep), `${JSON.stringify(folder)} → ${fin.filename}`);
    }
    assert.deepEqual(await tree(started.dir), [
      'C_/Windows/h2.txt',
      'ab/h3.txt',
      'etc/h1.txt',
      'ok/h6.txt',
      'outside/h0.txt',
      'server/share/h4.txt',
      'up/h5.txt',
    ]);
    const parent = await readdir(path.dirname(started.dir));
    assert.ok(!parent.includes('outside') && !parent.includes('up'), 'nothing was created beside the folder');
  });

  it('refuses a path too deep or too long with 400 and a message, storing nothing', async () => {
    started = await startServer({ maxFolderDepth: 4, maxFolderPathLength: 64 });
    const deep = await uploadV1(started.url, 'a.txt', 'a/b/c/d/e', bytes(4));
    assert.equal(deep.stor.code, 400);
    assert.match(String(deep.stor.message), /too deep: the limit is 4 levels/);
    const long = await uploadV1(started.url, 'a.txt', 'x'.repeat(65), bytes(4));
    assert.equal(long.stor.code, 400);
    assert.match(String(long.stor.message), /too long: the limit is 64 characters/);
    const defaults = await startServer();
    try {
      const veryDeep = await uploadV1(defaults.url, 'a.txt', 'a/'.repeat(200), bytes(4));
      assert.equal(veryDeep.stor.code, 400, 'the default depth bound holds');
      const veryLong = await uploadV1(defaults.url, 'a.txt', '😀'.repeat(600), bytes(4));
      assert.equal(veryLong.stor.code, 400, 'the default length bound holds');
    } finally {
      await defaults.stop();
    }
    assert.deepEqual(await tree(started.dir), []);
  });

  it('refuses a maxFolderDepth over 256 at start-up', async () => {
    await assert.rejects(startServer({ maxFolderDepth: 257 }), /"maxFolderDepth" option must be at most 256/);
  });

  it('refuses a path field that is not a string with 400', async () => {
    started = await startServer();
    const peer = await connect(started.url);
    const answer = await peer.ask('STOR: {"filename":"a","size":1,"path":["a","b"]}');
    assert.equal(answer.code, 400);
    assert.match(String(answer.message), /"path" must be a string/);
  });

  it('shows the accept hook the sanitised folder', async () => {
    const seen: (string | undefined)[] = [];
    started = await startServer({
      accept: (file) => {
        seen.push(file.path);
        return file.path !== 'secret';
      },
    });
    assert.equal((await uploadV1(started.url, 'a.txt', '../secret/', bytes(4))).stor.code, 403);
    assert.equal((await uploadV1(started.url, 'b.txt', undefined, bytes(4))).stor.code, 200);
    assert.deepEqual(seen, ['secret', undefined]);
  });

  it('flattens folders when configured', async () => {
    started = await startServer({ flattenFolders: true });
    const fin = await uploadV2(started.url, 'f.txt', 'deep/er/folder', bytes(20));
    assert.equal(fin.filename, 'f.txt');
    assert.deepEqual(await tree(started.dir), ['f.txt']);
  });

  it('puts the folders inside the user folder', async () => {
    const { tokenAccess } = await import('../../src/server/access.ts');
    started = await startServer({ ...tokenAccess('t0k3n'), userFolders: false });
    const peer = await connect(started.url);
    assert.equal((await peer.ask('AUTH: {"token":"t0k3n"}')).code, 200);
    const data = bytes(30);
    const body = { filename: 'u.txt', size: data.length, type: 'binary', path: 'p/q' };
    assert.equal((await peer.ask(`STOR: ${JSON.stringify(body)}`)).code, 200);
    assert.equal((await peer.ask(data)).code, 200);
    assert.deepEqual(await tree(started.dir), ['p/q/u.txt']);
  });

  it('never follows a symlink planted as one of the folders', async () => {
    started = await startServer();
    const outside = await tempDir();
    await mkdir(path.join(started.dir, 'real'));
    await symlink(outside, path.join(started.dir, 'real', 'link'));
    const { stor } = await uploadV1(started.url, 's.txt', 'real/link/x', bytes(10));
    // Refused at STOR, before any byte is sent (the commit checks each level again: it may be planted later).
    assert.equal(stor.code, 500);
    assert.match(stor.message as string, /ENOTDIR/);
    assert.deepEqual(await readdir(outside), [], 'nothing landed outside');
  });
});
