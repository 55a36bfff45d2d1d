import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createUploadServer } from '../../src/server/index.ts';
import {
  bytes,
  eventually,
  partialFiles,
  Peer,
  readStored,
  sha256,
  startServer,
  storedFiles,
  tempDir,
  uploadV1,
} from './peer.ts';

type Env = Awaited<ReturnType<typeof startServer>>;

describe('upload server, protocol v1', () => {
  let env: Env;
  before(async () => {
    env = await startServer();
  });
  after(() => env.stop());

  for (const type of ['base64', 'binary'] as const) {
    it(`stores a ${type} upload byte for byte and answers as the 2012 server did`, async () => {
      const data = bytes(10_000, type.length);
      const peer = await Peer.connect(env.url);
      const answers = await uploadV1(peer, `${type}.bin`, data, type, 1024);
      assert.deepEqual(answers[0], { type: 'STOR', code: 200, message: 'Upload initialized. Wait for data' });
      assert.equal(answers.length, 1 + Math.ceil(10_000 / 1024));
      for (const [i, answer] of answers.slice(1).entries()) {
        const expected = Math.min(1024, 10_000 - i * 1024);
        assert.deepEqual(answer, { type: 'DATA', code: 200, bytesRead: expected });
      }
      assert.equal(sha256(await readStored(env.dir, `${type}.bin`)), sha256(data));
      peer.close();
    });
  }

  it('commits the file before the last answer: it is in place when the client hears of it', async () => {
    const data = bytes(5000, 9);
    const peer = await Peer.connect(env.url);
    await peer.ask(`STOR: {"filename":"durable.bin","size":5000,"type":"binary"}`);
    await peer.ask(data.subarray(0, 4000));
    assert.equal(existsSync(path.join(env.dir, 'durable.bin')), false, 'no final file before the last chunk');
    await peer.ask(data.subarray(4000));
    // Read synchronously right at the answer: no later write may be needed to make it complete.
    assert.equal(sha256(await readFile(path.join(env.dir, 'durable.bin'))), sha256(data));
    peer.close();
  });

  it('stores an empty file on STOR with size 0, before answering', async () => {
    const peer = await Peer.connect(env.url);
    const answer = await peer.ask('STOR {"filename":"empty.txt","size":0}');
    assert.equal(answer.code, 200);
    assert.equal((await readStored(env.dir, 'empty.txt')).length, 0);
    peer.close();
  });

  for (const type of ['base64', 'binary'] as const) {
    it(`answers the empty ${type} frame the 2012 client sends for an empty file`, async () => {
      const peer = await Peer.connect(env.url);
      await peer.ask(`STOR: {"filename":"empty-2012-${type}.txt","size":0,"type":"${type}","parameters":[]}`);
      const answer = await peer.ask(type === 'base64' ? '' : Buffer.alloc(0));
      assert.deepEqual(answer, { type: 'DATA', code: 200, bytesRead: 0 });
      assert.equal((await readStored(env.dir, `empty-2012-${type}.txt`)).length, 0);
      peer.close();
    });
  }

  it('accepts both STOR spellings and whitespace around them', async () => {
    const peer = await Peer.connect(env.url);
    assert.equal((await peer.ask('  STOR {"filename":"s1.txt","size":1,"type":"binary"}\n')).code, 200);
    assert.equal((await peer.ask(Buffer.from('x'))).code, 200);
    assert.equal((await peer.ask('STOR: {"filename":"s2.txt","size":1,"type":"base64"}')).code, 200);
    assert.equal((await peer.ask('eQ==')).bytesRead, 1);
    assert.equal((await readStored(env.dir, 's1.txt')).toString(), 'x');
    assert.equal((await readStored(env.dir, 's2.txt')).toString(), 'y');
    peer.close();
  });

  it('answers AUTH with 200 when no check is configured (the 2012 client sends it when given credentials)', async () => {
    const peer = await Peer.connect(env.url);
    const answer = await peer.ask('AUTH: {"login":"a","password":"b"}');
    assert.equal(answer.type, 'AUTH');
    assert.equal(answer.code, 200);
    peer.close();
  });

  it('keeps a unicode name with spaces, NFC-normalised', async () => {
    const peer = await Peer.connect(env.url);
    const name = 'Cafe\u0301 日本 résumé.txt';
    await uploadV1(peer, name, Buffer.from('hi'), 'binary');
    assert.ok((await storedFiles(env.dir)).includes(name.normalize('NFC')));
    peer.close();
  });

  it('never overwrites: a second file of the same name gets a numbered suffix', async () => {
    for (const content of ['first', 'second', 'third']) {
      const peer = await Peer.connect(env.url);
      await uploadV1(peer, 'same.txt', Buffer.from(content), 'binary');
      peer.close();
    }
    assert.equal((await readStored(env.dir, 'same.txt')).toString(), 'first');
    assert.equal((await readStored(env.dir, 'same (1).txt')).toString(), 'second');
    assert.equal((await readStored(env.dir, 'same (2).txt')).toString(), 'third');
  });

  it('takes several files one after another on one connection', async () => {
    const peer = await Peer.connect(env.url);
    await uploadV1(peer, 'one.txt', Buffer.from('1'), 'base64');
    await uploadV1(peer, 'two.txt', Buffer.from('22'), 'binary');
    assert.equal((await readStored(env.dir, 'two.txt')).toString(), '22');
    peer.close();
  });

  it('emits stored with the final name, size and parameters', async () => {
    const seen = new Promise<unknown>((resolve) => env.server.once('stored', resolve));
    const peer = await Peer.connect(env.url);
    await peer.ask('STOR: {"filename":"ev.txt","size":2,"type":"binary","parameters":["x",{"y":1}]}');
    await peer.ask(Buffer.from('ok'));
    const stored = (await seen) as Record<string, unknown>;
    assert.equal(stored.filename, 'ev.txt');
    assert.equal(stored.size, 2);
    assert.deepEqual(stored.parameters, ['x', { y: 1 }]);
    peer.close();
  });
});

describe('upload server, bad input', () => {
  let env: Env;
  before(async () => {
    env = await startServer({ maxPayload: 64 * 1024, maxFileSize: 1_000_000 });
  });
  after(() => env.stop());

  async function refused(frames: (string | Buffer)[], code: number, closeCode?: number) {
    const peer = await Peer.connect(env.url);
    let answer: Record<string, unknown> | undefined;
    for (const frame of frames) {
      answer = await peer.ask(frame);
      if (answer.code !== 200) break;
    }
    assert.equal(answer?.code, code, JSON.stringify(answer));
    assert.equal(typeof answer?.message, 'string');
    assert.ok((answer?.message as string).length > 0);
    const closed = await peer.waitClose();
    if (closeCode) assert.equal(closed.code, closeCode);
    return answer!;
  }

  it('refuses bad JSON, unknown commands and lower-case commands with 400', async () => {
    await refused(['STOR: {"filename":'], 400, 1002);
    await refused(['HELO: {"a":1}'], 400);
    await refused(['stor: {"filename":"a","size":1}'], 400);
    await refused(['just text'], 400);
  });

  it('refuses negative, fractional, non-numeric and missing sizes', async () => {
    for (const size of ['-1', '1.5', '"10"', 'null', 'NaN', '1e18']) {
      await refused([`STOR: {"filename":"a","size":${size}}`], 400);
    }
    await refused(['STOR: {"filename":"a"}'], 400);
    await refused(['STOR: {"size":1}'], 400);
  });

  it('refuses a size over the limit with 413', async () => {
    await refused(['STOR: {"filename":"big","size":1000001}'], 413, 1009);
  });

  it('refuses data before STOR', async () => {
    await refused([Buffer.from('data')], 400);
    await refused(['aGVsbG8='], 400);
  });

  it('refuses bad base64 and removes the partial upload', async () => {
    const answer = await refused(
      ['STOR: {"filename":"b64.txt","size":10,"type":"base64"}', 'aGVs!!bG8='],
      400,
    );
    assert.equal(answer.type, 'DATA');
    assert.equal(existsSync(path.join(env.dir, 'b64.txt')), false);
    await eventually(async () => (await partialFiles(env.dir)).length === 0, 'the partial to go');
  });

  it('refuses a binary frame in base64 mode and a text frame in binary mode', async () => {
    await refused(['STOR: {"filename":"m1","size":4,"type":"base64"}', Buffer.from('abcd')], 400);
    await refused(['STOR: {"filename":"m2","size":4,"type":"binary"}', 'YWJjZA=='], 400);
  });

  it('refuses more bytes than declared and leaves no file', async () => {
    await refused(['STOR: {"filename":"more.bin","size":3,"type":"binary"}', Buffer.from('abcd')], 413);
    assert.equal(existsSync(path.join(env.dir, 'more.bin')), false);
  });

  it('refuses a command in the middle of the data', async () => {
    await refused(
      [
        'STOR: {"filename":"mid","size":4,"type":"binary"}',
        Buffer.from('ab'),
        'STOR: {"filename":"x","size":1}',
      ],
      400,
    );
  });

  it('closes with 1009 on a frame over maxPayload', async () => {
    const peer = await Peer.connect(env.url);
    await peer.ask('STOR: {"filename":"huge","size":500000,"type":"binary"}');
    peer.socket.send(Buffer.alloc(65 * 1024));
    assert.equal((await peer.waitClose()).code, 1009);
    assert.equal(existsSync(path.join(env.dir, 'huge')), false);
  });

  it('keeps path traversal and absolute names inside the folder', async () => {
    const names = ['../../escape.txt', '/etc/passwd', '..\\..\\win.txt', 'C:\\x.txt', '..', '.', 'a/../../b'];
    for (const name of names) {
      const peer = await Peer.connect(env.url);
      await uploadV1(peer, name, Buffer.from('z'), 'binary');
      peer.close();
    }
    const stored = await storedFiles(env.dir);
    for (const name of stored) {
      assert.equal(path.basename(name), name);
      assert.ok(!name.startsWith('.'), name);
    }
    assert.equal(existsSync(path.join(env.dir, '..', 'escape.txt')), false);
    assert.ok(stored.length >= names.length);
  });

  it('leaves no file that looks complete when the connection drops mid-upload', async () => {
    const peer = await Peer.connect(env.url);
    await peer.ask('STOR: {"filename":"dropped.bin","size":3000,"type":"binary"}');
    await peer.ask(bytes(1000));
    peer.socket.terminate();
    await eventually(async () => (await partialFiles(env.dir)).length === 0, 'the partial to be removed');
    assert.equal(existsSync(path.join(env.dir, 'dropped.bin')), false);
  });

  it('stays up after all of it', async () => {
    const peer = await Peer.connect(env.url);
    await uploadV1(peer, 'still-up.txt', Buffer.from('fine'), 'base64');
    assert.equal((await readStored(env.dir, 'still-up.txt')).toString(), 'fine');
    peer.close();
  });
});

describe('upload server with authentication', () => {
  let env: Env;
  before(async () => {
    env = await startServer({
      authenticate: ({ login, password, token }) =>
        (login === 'ann' && password === 's3cret') || token === 'tok',
    });
  });
  after(() => env.stop());

  it('accepts good credentials, then the upload', async () => {
    const peer = await Peer.connect(env.url);
    assert.deepEqual(await peer.ask('AUTH: {"login":"ann","password":"s3cret"}'), {
      type: 'AUTH',
      code: 200,
      message: 'Authenticated',
    });
    await uploadV1(peer, 'authed.txt', Buffer.from('secret'), 'base64');
    assert.equal((await readStored(env.dir, 'authed.txt')).toString(), 'secret');
    peer.close();
  });

  it('accepts a token', async () => {
    const peer = await Peer.connect(env.url);
    assert.equal((await peer.ask('AUTH: {"token":"tok"}')).code, 200);
    peer.close();
  });

  it('refuses bad credentials with 401 and closes with 1008', async () => {
    const peer = await Peer.connect(env.url);
    const answer = await peer.ask('AUTH: {"login":"ann","password":"wrong"}');
    assert.equal(answer.type, 'AUTH');
    assert.equal(answer.code, 401);
    assert.equal((await peer.waitClose()).code, 1008);
  });

  it('refuses STOR before AUTH with 401', async () => {
    const peer = await Peer.connect(env.url);
    const answer = await peer.ask('STOR: {"filename":"x","size":1}');
    assert.equal(answer.code, 401);
    assert.deepEqual(await storedFiles(env.dir), ['authed.txt']);
  });
});

describe('upload server lifecycle', () => {
  it('attaches to an existing HTTP server and leaves its routes and other upgrades alone', async () => {
    const http = createServer((_req, res) => res.end('mine'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    const dir = await tempDir();
    const server = await createUploadServer({ server: http, dir, path: '/files' });
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/anything`)).text(), 'mine');
      const peer = await Peer.connect(`ws://127.0.0.1:${port}/files`);
      await uploadV1(peer, 'attached.txt', Buffer.from('ok'), 'binary');
      assert.equal((await readStored(dir, 'attached.txt')).toString(), 'ok');
      peer.close();
    } finally {
      await server.close();
      assert.equal(http.listening, true, 'the borrowed server keeps running');
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('refuses a WebSocket on another path when standalone', async () => {
    const env = await startServer();
    try {
      await assert.rejects(Peer.connect(env.url.replace('/upload', '/other')));
    } finally {
      await env.stop();
    }
  });

  it('close() is idempotent and closes open connections with 1001', async () => {
    const env = await startServer();
    const peer = await Peer.connect(env.url);
    const first = env.server.close();
    assert.equal(env.server.close(), first);
    await first;
    assert.equal((await peer.waitClose()).code, 1001);
    await env.stop();
  });

  it('closes a client that stays silent past idleTimeout', async () => {
    const env = await startServer({ idleTimeout: 200 });
    try {
      const peer = await Peer.connect(env.url);
      assert.equal((await peer.waitClose(3000)).code, 1001);
    } finally {
      await env.stop();
    }
  });

  it('checks options before starting', async () => {
    await assert.rejects(createUploadServer({ port: 0 }), TypeError);
    await assert.rejects(createUploadServer({ dir: '/tmp', maxFileSize: -1 }), RangeError);
    await assert.rejects(createUploadServer({ dir: '/tmp', path: 'upload' }), TypeError);
  });

  it('the CLI starts a server that stores uploads and prints its URL', async () => {
    const { spawn } = await import('node:child_process');
    const dir = await tempDir();
    await writeFile(path.join(dir, 'marker'), '');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/server/cli.ts', '--dir', dir, '--port', '0'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      await eventually(() => /ws:\/\/127\.0\.0\.1:\d+\/upload/.test(out), 'the CLI to print its URL', 15000);
      const url = /ws:\/\/127\.0\.0\.1:\d+\/upload/.exec(out)![0];
      const peer = await Peer.connect(url);
      await uploadV1(peer, 'cli.txt', Buffer.from('via cli'), 'base64');
      assert.equal((await readStored(dir, 'cli.txt')).toString(), 'via cli');
      peer.close();
    } finally {
      child.kill('SIGTERM');
    }
  });
});
