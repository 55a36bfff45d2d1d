// Limits, access checks, naming and operations of a hardened server, over real sockets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createUploadServer } from '../../src/server/index.ts';
import { hashPassword, passwordFileAccess, tokenAccess } from '../../src/server/access.ts';
import {
  bytes,
  eventually,
  partialFiles,
  Peer,
  readStored,
  sha256,
  startServer,
  storedFiles,
  uploadV1,
} from './peer.ts';

type Env = Awaited<ReturnType<typeof startServer>>;
const STOR = (body: Record<string, unknown>) => `STOR: ${JSON.stringify(body)}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('options', () => {
  const bad: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ maxUploads: 0 }, RangeError, /"maxUploads"/],
    [{ maxUploadsPerClient: -1 }, RangeError, /"maxUploadsPerClient"/],
    [{ maxConnectionsPerClient: NaN }, RangeError, /"maxConnectionsPerClient"/],
    [{ maxConnections: '10' }, RangeError, /"maxConnections"/],
    [{ handshakeTimeout: 0 }, RangeError, /"handshakeTimeout"/],
    [{ authTimeout: 2 ** 31 }, RangeError, /"authTimeout"/],
    [{ partialExpiry: -5 }, RangeError, /"partialExpiry"/],
    [{ minFreeSpace: -1 }, RangeError, /"minFreeSpace"/],
    [{ naming: 'md5' }, TypeError, /"naming"/],
    [{ logger: console }, TypeError, /"logger"/],
    [{ logger: true }, TypeError, /"logger"/],
    [{ allowedOrigins: 'https://a.example' }, TypeError, /"allowedOrigins"/],
    [{ accept: 'yes' }, TypeError, /"accept"/],
    [{ authorizeUpgrade: {} }, TypeError, /"authorizeUpgrade"/],
    [{ userFolders: 'yes' }, TypeError, /"userFolders"/],
  ];
  for (const [options, type, message] of bad) {
    it(`refuses ${JSON.stringify(options)} with a ${type.name} naming the option`, async () => {
      await assert.rejects(
        createUploadServer({ dir: '/tmp', port: 0, ...options } as never),
        (error: Error) => {
          assert.ok(error instanceof type, error.constructor.name);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }
});

describe('concurrency limits', () => {
  it('refuses a second upload from one client IP with 429, retryAfter and close 1013; the slot comes back', async () => {
    const env = await startServer({ maxUploadsPerClient: 1 });
    try {
      const first = await Peer.connect(env.url);
      assert.equal((await first.ask(STOR({ filename: 'one.bin', size: 4, type: 'binary' }))).code, 200);
      const second = await Peer.connect(env.url);
      const answer = await second.ask(STOR({ filename: 'two.bin', size: 4, type: 'binary' }));
      assert.equal(answer.code, 429);
      assert.equal(answer.type, 'STOR');
      assert.ok((answer.retryAfter as number) > 0, JSON.stringify(answer));
      assert.match(answer.message as string, /this address/);
      assert.equal((await second.waitClose()).code, 1013);
      assert.equal(env.server.activeUploads, 1);
      // Finished: the slot is free again.
      assert.equal((await first.ask(Buffer.from('abcd'))).code, 200);
      assert.equal(env.server.activeUploads, 0);
      const third = await Peer.connect(env.url);
      assert.equal((await third.ask(STOR({ filename: 'three.bin', size: 1, type: 'binary' }))).code, 200);
      // Dropped mid-upload: the slot is free again too.
      third.socket.terminate();
      await eventually(() => env.server.activeUploads === 0, 'the dropped upload to give its slot back');
      const fourth = await Peer.connect(env.url);
      assert.equal((await fourth.ask(STOR({ filename: 'four.bin', size: 1, type: 'binary' }))).code, 200);
      first.close();
      fourth.close();
    } finally {
      await env.stop();
    }
  });

  it('refuses an upload over the total with 429', async () => {
    const env = await startServer({ maxUploads: 2, maxUploadsPerClient: 10 });
    try {
      const peers = await Promise.all([1, 2, 3].map(() => Peer.connect(env.url)));
      assert.equal((await peers[0]!.ask(STOR({ filename: 'a', size: 9 }))).code, 200);
      assert.equal((await peers[1]!.ask(STOR({ filename: 'b', size: 9 }))).code, 200);
      const answer = await peers[2]!.ask(STOR({ filename: 'c', size: 9 }));
      assert.equal(answer.code, 429);
      assert.match(answer.message as string, /Too many uploads in progress\./);
      for (const peer of peers) peer.close();
    } finally {
      await env.stop();
    }
  });

  it('refuses connections over the per-IP limit at the upgrade with HTTP 429, and takes them again later', async () => {
    const env = await startServer({ maxConnectionsPerClient: 2 });
    try {
      const a = await Peer.connect(env.url);
      const b = await Peer.connect(env.url);
      await assert.rejects(Peer.connect(env.url), /429/);
      assert.equal(env.server.connections, 2);
      a.close();
      await eventually(() => env.server.connections === 1, 'the closed connection to be counted out');
      const c = await Peer.connect(env.url);
      b.close();
      c.close();
    } finally {
      await env.stop();
    }
  });

  it('gives the connection slot back after a malformed handshake that ws refuses', async () => {
    const env = await startServer({ maxConnectionsPerClient: 1 });
    try {
      const { connect } = await import('node:net');
      for (let i = 0; i < 3; i++) {
        const socket = connect(env.server.port, '127.0.0.1');
        let reply = '';
        socket.on('data', (chunk) => (reply += chunk));
        socket.write(
          'GET /upload HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 13\r\n\r\n',
        );
        await new Promise((resolve) => socket.once('close', resolve));
        assert.match(reply, /^HTTP\/1\.1 400/);
      }
      await eventually(() => env.server.connections === 0, 'the slots to come back');
      (await Peer.connect(env.url)).close();
    } finally {
      await env.stop();
    }
  });

  it('refuses connections over the total at the upgrade with HTTP 503', async () => {
    const env = await startServer({ maxConnections: 1 });
    try {
      const a = await Peer.connect(env.url);
      await assert.rejects(Peer.connect(env.url), /503/);
      a.close();
    } finally {
      await env.stop();
    }
  });
});

describe('timeouts', () => {
  it('closes a client that never authenticates within authTimeout with 1008', async () => {
    const env = await startServer({ authTimeout: 200, authenticate: () => true });
    try {
      const peer = await Peer.connect(env.url);
      const started = Date.now();
      assert.equal((await peer.waitClose(3000)).code, 1008);
      assert.ok(Date.now() - started >= 150);
    } finally {
      await env.stop();
    }
  });

  it('keeps a client that authenticated in time, and one that started an upload', async () => {
    const env = await startServer({ authTimeout: 200 });
    try {
      const authed = await Peer.connect(env.url);
      const idle = await Peer.connect(env.url);
      assert.equal((await authed.ask(STOR({ filename: 'kept.bin', size: 2, type: 'binary' }))).code, 200);
      await sleep(500);
      assert.equal(authed.closed, undefined);
      assert.equal(idle.closed?.code, 1008, 'no STOR in time: closed');
      authed.close();
    } finally {
      await env.stop();
    }
  });
});

describe('access', () => {
  it('refuses a foreign Origin at the upgrade with 403, and lets listed and Origin-less clients in', async () => {
    const env = await startServer({ allowedOrigins: ['https://good.example'] });
    try {
      await assert.rejects(Peer.connect(env.url, { Origin: 'https://evil.example' }), /403/);
      (await Peer.connect(env.url, { Origin: 'https://good.example' })).close();
      (await Peer.connect(env.url)).close();
    } finally {
      await env.stop();
    }
  });

  it('authorizeUpgrade can refuse (401) or let in under a user, with per-user folders', async () => {
    const env = await startServer({
      userFolders: true,
      authorizeUpgrade: (request) => {
        const cookie = request.headers.cookie ?? '';
        if (cookie.includes('session=ann')) return { user: 'ann' };
        if (cookie.includes('session=../root')) return { user: '../root' };
        return false;
      },
    });
    try {
      await assert.rejects(Peer.connect(env.url), /401/);
      const peer = await Peer.connect(env.url, { Cookie: 'session=ann' });
      await uploadV1(peer, 'mine.txt', Buffer.from('ann'), 'binary');
      assert.equal((await readStored(path.join(env.dir, 'ann'), 'mine.txt')).toString(), 'ann');
      peer.close();
      // A user name is sanitised like a file name: it cannot leave the folder.
      const sneaky = await Peer.connect(env.url, { Cookie: 'session=../root' });
      await uploadV1(sneaky, 'x.txt', Buffer.from('x'), 'binary');
      sneaky.close();
      assert.deepEqual((await readdir(env.dir)).sort(), ['.partial', '_root', 'ann']);
    } finally {
      await env.stop();
    }
  });

  it('a token (CLI --token) works in AUTH, a Bearer header or ?token=, and nothing else', async () => {
    const env = await startServer(tokenAccess('s3cret-token'));
    try {
      const query = await Peer.connect(`${env.url}?token=s3cret-token`);
      assert.equal((await query.ask(STOR({ filename: 'q.txt', size: 1, type: 'binary' }))).code, 200);
      query.close();
      const header = await Peer.connect(env.url, { Authorization: 'Bearer s3cret-token' });
      assert.equal((await header.ask(STOR({ filename: 'h.txt', size: 1, type: 'binary' }))).code, 200);
      header.close();
      const auth = await Peer.connect(env.url);
      assert.equal((await auth.ask('AUTH: {"token":"s3cret-token"}')).code, 200);
      auth.close();
      // A wrong token at the upgrade is a failed attempt (issue 15: counted by the throttle), refused at once.
      await assert.rejects(Peer.connect(`${env.url}?token=guess`), /401/);
      const none = await Peer.connect(env.url);
      assert.equal((await none.ask(STOR({ filename: 'w.txt', size: 1 }))).code, 401);
      const wrongAuth = await Peer.connect(env.url);
      assert.equal((await wrongAuth.ask('AUTH: {"token":"guess"}')).code, 401);
      assert.equal((await wrongAuth.waitClose()).code, 1008);
    } finally {
      await env.stop();
    }
  });

  it('a password file (CLI --htpasswd, scrypt) works with AUTH and HTTP Basic; the login is the user folder', async () => {
    const file = `# users\n${await hashPassword('ann', 'pa:ss wörd')}\n${await hashPassword('bob', 'other')}\n`;
    assert.match(file, /^ann:scrypt:[0-9a-f]{32}:[0-9a-f]{64}$/m);
    const env = await startServer({ ...passwordFileAccess(file), userFolders: true });
    try {
      const peer = await Peer.connect(env.url);
      assert.equal((await peer.ask('AUTH: {"login":"ann","password":"pa:ss wörd"}')).code, 200);
      await uploadV1(peer, 'a.txt', Buffer.from('A'), 'base64');
      peer.close();
      assert.equal((await readStored(path.join(env.dir, 'ann'), 'a.txt')).toString(), 'A');
      const basic = 'Basic ' + Buffer.from('bob:other').toString('base64');
      const bob = await Peer.connect(env.url, { Authorization: basic });
      await uploadV1(bob, 'b.txt', Buffer.from('B'), 'binary');
      bob.close();
      assert.equal((await readStored(path.join(env.dir, 'bob'), 'b.txt')).toString(), 'B');
      const badBasic = 'Basic ' + Buffer.from('bob:wrong').toString('base64');
      await assert.rejects(Peer.connect(env.url, { Authorization: badBasic }), /401/);
      for (const login of ['ann', 'nobody']) {
        const bad = await Peer.connect(env.url);
        assert.equal((await bad.ask(`AUTH: {"login":"${login}","password":"nope"}`)).code, 401);
      }
    } finally {
      await env.stop();
    }
    assert.throws(() => passwordFileAccess('ann:plain:secret'), /line 1/);
  });

  it('the accept hook sees name, size, MIME, parameters and user, and refuses with its code', async () => {
    const seen: unknown[] = [];
    const env = await startServer({
      authenticate: ({ login }) => ({ user: login! }),
      accept: (file) => {
        seen.push({ ...file, request: typeof file.request.headers });
        if (file.filename.endsWith('.exe')) return false;
        if (file.size > 10) return { code: 413, message: 'Ten bytes at most.' };
        if (file.filename === 'throw.txt') throw new Error('hook bug');
        return true;
      },
    });
    try {
      const ok = await Peer.connect(env.url);
      await ok.ask('AUTH: {"login":"ann","password":"x"}');
      const stor = {
        filename: 'ok.txt',
        size: 2,
        type: 'binary',
        parameters: ['p'],
        ext: { mime: 'text/plain' },
      };
      assert.equal((await ok.ask(STOR(stor))).code, 200);
      assert.deepEqual(seen[0], {
        filename: 'ok.txt',
        requestedName: 'ok.txt',
        size: 2,
        mime: 'text/plain',
        parameters: ['p'],
        user: 'ann',
        request: 'object',
      });
      ok.close();
      for (const [name, size, code] of [
        ['virus.exe', 1, 403],
        ['big.txt', 11, 413],
        ['throw.txt', 1, 500],
      ] as const) {
        const peer = await Peer.connect(env.url);
        await peer.ask('AUTH: {"login":"ann","password":"x"}');
        const answer = await peer.ask(STOR({ filename: name, size }));
        assert.equal(answer.code, code, name);
        await peer.waitClose();
      }
      assert.deepEqual(await storedFiles(env.dir), []);
      assert.equal(env.server.activeUploads, 0, 'a refused file holds no slot');
    } finally {
      await env.stop();
    }
  });
});

describe('naming', () => {
  it('names files by their SHA-256 and stores identical content once', async () => {
    const env = await startServer({ naming: 'sha256' });
    try {
      const data = bytes(3000, 7);
      for (const name of ['photo.JPG', 'copy.jpg']) {
        const peer = await Peer.connect(env.url);
        await uploadV1(peer, name, data, 'binary', 1000);
        peer.close();
      }
      const other = await Peer.connect(env.url);
      await uploadV1(other, 'other.jpg', bytes(10, 8), 'base64');
      other.close();
      const expected = [`${sha256(data)}.jpg`, `${sha256(bytes(10, 8))}.jpg`].sort();
      assert.deepEqual(await storedFiles(env.dir), expected);
      assert.equal(sha256(await readStored(env.dir, `${sha256(data)}.jpg`)), sha256(data));
      assert.deepEqual(await partialFiles(env.dir), []);
    } finally {
      await env.stop();
    }
  });
});

describe('disk-space floor', () => {
  it('refuses a new upload with 507 and close 1011 when the floor would be crossed', async () => {
    const env = await startServer({ minFreeSpace: Number.MAX_SAFE_INTEGER });
    try {
      const peer = await Peer.connect(env.url);
      const answer = await peer.ask(STOR({ filename: 'x.bin', size: 1 }));
      assert.equal(answer.code, 507);
      assert.equal((await peer.waitClose()).code, 1011);
      assert.deepEqual(await storedFiles(env.dir), []);
    } finally {
      await env.stop();
    }
  });

  it('takes an upload when there is room above the floor', async () => {
    const env = await startServer({ minFreeSpace: 1024 });
    try {
      const peer = await Peer.connect(env.url);
      assert.equal((await peer.ask(STOR({ filename: 'x.bin', size: 1, type: 'binary' }))).code, 200);
      peer.close();
    } finally {
      await env.stop();
    }
  });
});

describe('operations', () => {
  let env: Env;
  const lines: Record<string, unknown>[] = [];
  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    env = await startServer({ logger: pino(sink) });
  });
  after(() => env.stop());

  it('serves /healthz as JSON', async () => {
    const peer = await Peer.connect(env.url);
    const response = await fetch(env.url.replace('ws:', 'http:').replace('/upload', '/healthz'));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /application\/json/);
    assert.deepEqual(await response.json(), {
      status: 'ok',
      connections: 1,
      activeUploads: 0,
      checks: { writable: true, freeSpace: true },
    });
    peer.close();
  });

  it('logs one line per upload start, finish and failure with id, size, duration and client', async () => {
    const good = await Peer.connect(env.url);
    await uploadV1(good, 'logged.txt', Buffer.from('12345'), 'binary');
    good.close();
    const bad = await Peer.connect(env.url);
    await bad.ask(STOR({ filename: 'bad.txt', size: 5, type: 'binary' }));
    await bad.ask('STOR: {"filename":"again","size":1}');
    await bad.waitClose();
    await eventually(() => lines.some((l) => l.event === 'upload.fail'), 'the failure line');
    const start = lines.find((l) => l.event === 'upload.start' && l.filename === 'logged.txt')!;
    const finish = lines.find((l) => l.event === 'upload.finish')!;
    const fail = lines.find((l) => l.event === 'upload.fail')!;
    assert.equal(finish.id, start.id);
    assert.match(String(start.id), /^[0-9a-f]{16}$/);
    assert.equal(finish.size, 5);
    assert.equal(typeof finish.durationMs, 'number');
    assert.equal(finish.ip, '127.0.0.1');
    assert.equal(fail.code, 400);
    assert.equal(fail.filename, 'bad.txt');
    assert.equal(lines.filter((l) => String(l.event).startsWith('upload.')).length, 4);
  });

  it('serves counters and gauges in Prometheus text format at /metrics', async () => {
    const refused = await Peer.connect(env.url);
    await refused.ask('HELO: {}');
    await refused.waitClose();
    const response = await fetch(env.url.replace('ws:', 'http:').replace('/upload', '/metrics'));
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /text\/plain/);
    const text = await response.text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('wsfu_uploads_started_total'), 2);
    assert.equal(value('wsfu_uploads_completed_total'), 1);
    assert.equal(value('wsfu_uploads_failed_total'), 1);
    assert.equal(value('wsfu_errors_total\\{code="400"\\}'), 2);
    assert.equal(value('wsfu_active_uploads'), 0);
    assert.ok(value('wsfu_received_bytes_total') > 10);
    assert.match(text, /# TYPE wsfu_connections gauge/);
  });

  it('does not serve them when metrics is false', async () => {
    const quiet = await startServer({ metrics: false });
    try {
      const response = await fetch(quiet.url.replace('ws:', 'http:').replace('/upload', '/metrics'));
      assert.equal(response.status, 426);
    } finally {
      await quiet.stop();
    }
  });

  it('answers /healthz with 503 while closing', async () => {
    const closing = await startServer();
    const peer = await Peer.connect(closing.url);
    const url = closing.url.replace('ws:', 'http:').replace('/upload', '/healthz');
    const done = closing.server.close();
    await peer.waitClose();
    await done;
    assert.equal(existsSync(closing.dir), true);
    await assert.rejects(fetch(url));
    await closing.stop();
  });
});

describe('CLI flags', () => {
  it('--token, --htpasswd, --allow-origin, --user-folders, limits and /healthz reach the server', async () => {
    const { spawn } = await import('node:child_process');
    const { writeFile, rm } = await import('node:fs/promises');
    const { tempDir } = await import('./peer.ts');
    const dir = await tempDir();
    const users = path.join(dir, '..', `${path.basename(dir)}-users.txt`);
    await writeFile(users, (await hashPassword('ann', 'pw')) + '\n');
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', 'src/server/cli.ts', '--dir', dir, '--port', '0', '--htpasswd', users],
        ...['--allow-origin', 'https://good.example', '--user-folders', '--max-connections-per-client', '3'],
        ...['--max-file-size', '1K', '--log-level', 'silent'],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.stderr.on('data', (chunk) => (out += chunk));
      await eventually(() => /ws:\/\/127\.0\.0\.1:\d+\/upload/.test(out), 'the CLI to print its URL', 15000);
      const url = /ws:\/\/127\.0\.0\.1:\d+\/upload/.exec(out)![0];
      await assert.rejects(Peer.connect(url, { Origin: 'https://evil.example' }), /403/);
      const basic = 'Basic ' + Buffer.from('ann:pw').toString('base64');
      const peer = await Peer.connect(url, { Origin: 'https://good.example', Authorization: basic });
      assert.equal((await peer.ask(STOR({ filename: 'big', size: 1025 }))).code, 413);
      const again = await Peer.connect(url, { Authorization: basic });
      await uploadV1(again, 'cli.txt', Buffer.from('via cli'), 'binary');
      again.close();
      assert.equal((await readStored(path.join(dir, 'ann'), 'cli.txt')).toString(), 'via cli');
      const anonymous = await Peer.connect(url);
      assert.equal((await anonymous.ask(STOR({ filename: 'x', size: 1 }))).code, 401);
      const health = await fetch(url.replace('ws:', 'http:').replace('/upload', '/healthz'));
      assert.equal(health.status, 200);
    } finally {
      child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
      await rm(users, { force: true });
    }
  });
});
