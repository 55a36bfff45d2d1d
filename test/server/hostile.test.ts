// Hostile input over real sockets. Every case must end with the documented answer, and leave nothing
// outside the upload folder and nothing in it that looks like a finished file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { createUploadServer, type UploadServer } from '../../src/server/index.ts';
import { MAX_NAME_BYTES } from '../../src/server/naming.ts';
import path from 'node:path';
import { bytes, eventually, partialFiles, Peer, readStored, storedFiles, tempDir, uploadV1 } from './peer.ts';

// Larger than the default maxCommandLength (64 Ki characters), so that both limits can be reached apart.
const MAX_PAYLOAD = 128 * 1024;
const MAX_FILE_SIZE = 1_000_000;

/** A server whose upload folder sits alone in a parent folder, so that an escape shows up as a sibling. */
async function startContained() {
  const parent = await tempDir();
  const dir = path.join(parent, 'uploads');
  await mkdir(dir);
  const server: UploadServer = await createUploadServer({
    dir,
    port: 0,
    host: '127.0.0.1',
    maxPayload: MAX_PAYLOAD,
    maxFileSize: MAX_FILE_SIZE,
  });
  return {
    server,
    dir,
    parent,
    async assertContained() {
      assert.deepEqual(await readdir(parent), ['uploads'], 'nothing may land outside the upload folder');
      for (const name of await storedFiles(dir)) {
        assert.equal(path.basename(name), name);
        assert.equal(path.dirname(path.resolve(dir, name)), dir);
      }
    },
    async stop() {
      await server.close();
      await rm(parent, { recursive: true, force: true });
    },
  };
}

interface Case {
  name: string;
  frames: (string | Buffer)[];
  code: number;
  /** WebSocket close code expected after the answer. */
  close: number;
}

const STOR = (body: Record<string, unknown>) => `STOR: ${JSON.stringify(body)}`;
const deepObject = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

const REFUSALS: Case[] = [
  // Sizes
  { name: 'negative size', frames: [STOR({ filename: 'a', size: -1 })], code: 400, close: 1002 },
  { name: 'NaN size (not JSON)', frames: ['STOR: {"filename":"a","size":NaN}'], code: 400, close: 1002 },
  { name: 'null size', frames: [STOR({ filename: 'a', size: null })], code: 400, close: 1002 },
  { name: 'string size', frames: [STOR({ filename: 'a', size: '10' })], code: 400, close: 1002 },
  {
    name: 'size 1e18 (not a safe integer)',
    frames: [STOR({ filename: 'a', size: 1e18 })],
    code: 400,
    close: 1002,
  },
  { name: 'fractional size', frames: [STOR({ filename: 'a', size: 1.5 })], code: 400, close: 1002 },
  { name: 'Infinity size', frames: ['STOR: {"filename":"a","size":1e999}'], code: 400, close: 1002 },
  {
    name: 'size over maxFileSize',
    frames: [STOR({ filename: 'a', size: Number.MAX_SAFE_INTEGER })],
    code: 413,
    close: 1009,
  },
  // Missing or mistyped fields
  { name: 'missing filename', frames: [STOR({ size: 1 })], code: 400, close: 1002 },
  { name: 'missing size', frames: [STOR({ filename: 'a' })], code: 400, close: 1002 },
  { name: 'empty body', frames: ['STOR: {}'], code: 400, close: 1002 },
  { name: 'empty filename', frames: [STOR({ filename: '', size: 1 })], code: 400, close: 1002 },
  { name: 'numeric filename', frames: [STOR({ filename: 42, size: 1 })], code: 400, close: 1002 },
  { name: 'unknown type', frames: [STOR({ filename: 'a', size: 1, type: 'gzip' })], code: 400, close: 1002 },
  { name: 'JSON array body', frames: ['STOR: [1,2]'], code: 400, close: 1002 },
  { name: 'AUTH without login or token', frames: ['AUTH: {"password":"x"}'], code: 400, close: 1002 },
  { name: 'AUTH with a numeric login', frames: ['AUTH: {"login":1,"password":"x"}'], code: 400, close: 1002 },
  // Unknown commands and garbage
  { name: 'unknown command', frames: ['HELO: {"a":1}'], code: 400, close: 1002 },
  { name: 'lower-case command', frames: ['stor: {"filename":"a","size":1}'], code: 400, close: 1002 },
  { name: 'v2 command on a v1 session', frames: ['FIN: {"size":1}'], code: 400, close: 1002 },
  { name: 'plain text', frames: ['hello there'], code: 400, close: 1002 },
  { name: 'broken JSON', frames: ['STOR: {"filename":'], code: 400, close: 1002 },
  { name: 'JSON nested 10,000 deep', frames: [`STOR: ${deepObject(10_000)}`], code: 400, close: 1002 },
  {
    name: 'JSON nested 10,000 deep in parameters, name missing',
    frames: [`STOR: {"size":1,"parameters":${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
    code: 400,
    close: 1002,
  },
  {
    name: 'command longer than maxCommandLength',
    frames: [`STOR: ${deepObject(12_000)}`],
    code: 413,
    close: 1009,
  },
  // Data in the wrong place or shape
  { name: 'binary data before STOR', frames: [Buffer.from('data')], code: 400, close: 1002 },
  { name: 'base64 data before STOR', frames: ['aGVsbG8='], code: 400, close: 1002 },
  {
    name: 'base64 with junk',
    frames: [STOR({ filename: 'junk.txt', size: 10, type: 'base64' }), 'aGVs!!bG8='],
    code: 400,
    close: 1002,
  },
  {
    name: 'base64 with a data URL prefix',
    frames: [STOR({ filename: 'url.txt', size: 5, type: 'base64' }), 'data:text/plain;base64,aGVsbG8='],
    code: 400,
    close: 1002,
  },
  {
    name: 'base64 without padding',
    frames: [STOR({ filename: 'pad.txt', size: 5, type: 'base64' }), 'aGVsbG8'],
    code: 400,
    close: 1002,
  },
  {
    name: 'binary frame in base64 mode',
    frames: [STOR({ filename: 'mode.bin', size: 4, type: 'base64' }), Buffer.from('abcd')],
    code: 400,
    close: 1002,
  },
  {
    name: 'text frame in binary mode',
    frames: [STOR({ filename: 'mode2.bin', size: 4, type: 'binary' }), 'YWJjZA=='],
    code: 400,
    close: 1002,
  },
  {
    name: 'empty data frame',
    frames: [STOR({ filename: 'empty-frame.bin', size: 4, type: 'binary' }), Buffer.alloc(0)],
    code: 400,
    close: 1002,
  },
  {
    name: 'more bytes than declared (one frame)',
    frames: [STOR({ filename: 'more.bin', size: 3, type: 'binary' }), Buffer.from('abcd')],
    code: 413,
    close: 1009,
  },
  {
    name: 'more bytes than declared (second frame)',
    frames: [STOR({ filename: 'more2.bin', size: 3, type: 'binary' }), Buffer.from('ab'), Buffer.from('cd')],
    code: 413,
    close: 1009,
  },
  {
    name: 'STOR in the middle of the data',
    frames: [
      STOR({ filename: 'mid.bin', size: 4, type: 'binary' }),
      Buffer.from('ab'),
      STOR({ filename: 'x', size: 1 }),
    ],
    code: 400,
    close: 1002,
  },
  {
    name: 'AUTH in the middle of base64 data',
    frames: [STOR({ filename: 'mid2.txt', size: 6, type: 'base64' }), 'YWJj', 'AUTH: {"token":"t"}'],
    code: 400,
    close: 1002,
  },
  {
    name: 'unknown command in the middle of the data',
    frames: [STOR({ filename: 'mid3.txt', size: 6, type: 'base64' }), 'YWJj', 'HELO: {}'],
    code: 400,
    close: 1002,
  },
];

describe('hostile input: refused with the documented code', () => {
  let env: Awaited<ReturnType<typeof startContained>>;
  before(async () => {
    env = await startContained();
  });
  after(() => env.stop());

  for (const c of REFUSALS) {
    it(`${c.name} → ${c.code}, close ${c.close}, nothing stored`, async () => {
      const peer = await Peer.connect(env.server.url);
      let answer: Record<string, unknown> | undefined;
      for (const frame of c.frames) {
        answer = await peer.ask(frame);
        if (answer.code !== 200) break;
      }
      assert.equal(answer?.code, c.code, JSON.stringify(answer));
      assert.equal(typeof answer?.message, 'string');
      assert.ok((answer!.message as string).length > 0);
      assert.equal((await peer.waitClose()).code, c.close);
      assert.deepEqual(await storedFiles(env.dir), [], 'no file may look complete');
      await eventually(async () => (await partialFiles(env.dir)).length === 0, 'the partial upload to go');
      await env.assertContained();
    });
  }

  it('a frame over maxPayload → close 1009, nothing stored', async () => {
    const peer = await Peer.connect(env.server.url);
    assert.equal((await peer.ask(STOR({ filename: 'huge.bin', size: 500_000, type: 'binary' }))).code, 200);
    peer.socket.send(Buffer.alloc(MAX_PAYLOAD + 1));
    assert.equal((await peer.waitClose()).code, 1009);
    await eventually(async () => (await partialFiles(env.dir)).length === 0, 'the partial upload to go');
    assert.deepEqual(await storedFiles(env.dir), []);
    await env.assertContained();
  });

  it('invalid UTF-8 in a text frame → close 1007, nothing stored', async () => {
    const peer = await Peer.connect(env.server.url);
    assert.equal((await peer.ask(STOR({ filename: 'utf.txt', size: 3, type: 'base64' }))).code, 200);
    // ws's own client refuses to send bad UTF-8 as text; the raw frame is built by hand (masked, FIN, text).
    const payload = Buffer.from([0xff, 0xfe, 0xfd]);
    const mask = Buffer.from([1, 2, 3, 4]);
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    (peer.socket as unknown as { _socket: import('node:net').Socket })._socket.write(
      Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]),
    );
    assert.equal((await peer.waitClose()).code, 1007);
    await eventually(async () => (await partialFiles(env.dir)).length === 0, 'the partial upload to go');
    assert.deepEqual(await storedFiles(env.dir), []);
  });

  it('a connection dropped mid-upload leaves nothing that looks complete', async () => {
    const peer = await Peer.connect(env.server.url);
    await peer.ask(STOR({ filename: 'dropped.bin', size: 3000, type: 'binary' }));
    await peer.ask(bytes(1000));
    peer.socket.terminate();
    await eventually(async () => (await partialFiles(env.dir)).length === 0, 'the partial upload to go');
    assert.deepEqual(await storedFiles(env.dir), []);
  });

  it('the server is still up and stores a good file after all of it', async () => {
    const peer = await Peer.connect(env.server.url);
    await uploadV1(peer, 'fine.txt', Buffer.from('fine'), 'base64');
    assert.equal((await readStored(env.dir, 'fine.txt')).toString(), 'fine');
    peer.close();
  });
});

const NAMES: [label: string, name: string][] = [
  ['NUL inside', 'a\u0000b.txt'],
  ['slash', 'dir/evil.txt'],
  ['backslash', 'dir\\evil.txt'],
  ['dot-dot', '..'],
  ['traversal', '../../../escape.txt'],
  ['windows traversal', '..\\..\\escape.txt'],
  ['absolute POSIX', '/etc/passwd'],
  ['absolute Windows', 'C:\\Windows\\win.ini'],
  ['UNC', '\\\\server\\share\\x.txt'],
  ['10 KB name', 'n'.repeat(10 * 1024) + '.txt'],
  ['10 KB of multi-byte characters', 'é'.repeat(5 * 1024) + '.txt'],
  ['RTL override', 'invoice\u202efdp.exe'],
  ['CON', 'CON'],
  ['NUL', 'NUL'],
  ['nul with extension', 'nul.txt'],
  ['LPT1 with spaces', 'LPT1 .log'],
  ['only dots and spaces', ' . . '],
  ['hidden file', '.htaccess'],
  ['control characters', 'a\u0001\u001f\u007fb'],
  ['zero-width and BOM', '\ufeffa\u200bb.txt'],
  ['lone surrogate', 'a\ud800b.txt'],
];

describe('hostile names: stored inside the folder under a safe name', () => {
  let env: Awaited<ReturnType<typeof startContained>>;
  before(async () => {
    env = await startContained();
  });
  after(() => env.stop());

  for (const [label, name] of NAMES) {
    it(`${label}: answered 200, one safe segment inside the folder, content intact`, async () => {
      const before = new Set(await storedFiles(env.dir));
      const content = Buffer.from(`content of ${label}`);
      const peer = await Peer.connect(env.server.url);
      const answers = await uploadV1(peer, name, content, 'binary');
      assert.ok(
        answers.every((a) => a.code === 200),
        JSON.stringify(answers),
      );
      peer.close();
      const added = (await storedFiles(env.dir)).filter((n) => !before.has(n));
      assert.equal(added.length, 1, JSON.stringify(added));
      const stored = added[0]!;
      assert.ok(Buffer.byteLength(stored) <= MAX_NAME_BYTES + 8, `${Buffer.byteLength(stored)} bytes`);
      // eslint-disable-next-line no-control-regex -- control characters are what is checked for
      assert.ok(!/[/\\\u0000-\u001f\u202e]/.test(stored), JSON.stringify(stored));
      assert.ok(!stored.startsWith('.'), stored);
      assert.ok(!/^(con|nul|lpt1)(\.|$)/i.test(stored.trim()), stored);
      assert.deepEqual(await readStored(env.dir, stored), content);
      await env.assertContained();
    });
  }

  it('a size-0 STOR stores an empty file at once', async () => {
    const peer = await Peer.connect(env.server.url);
    assert.equal((await peer.ask(STOR({ filename: 'zero.bin', size: 0 }))).code, 200);
    assert.equal((await readStored(env.dir, 'zero.bin')).length, 0);
    peer.close();
  });
});
