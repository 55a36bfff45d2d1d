import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createUploadServer } from '../../src/server/index.ts';
import { PendingWork } from '../../src/server/pending-work.ts';
import { FileStore } from '../../src/server/stores/file-store.ts';
import {
  bytes,
  eventually,
  partialFiles,
  Peer,
  readStored,
  startServer,
  storedFiles,
  tempDir,
} from './peer.ts';

type Started = Awaited<ReturnType<typeof startServer>>;
let started: Started | undefined;
const peers: Peer[] = [];

afterEach(async () => {
  for (const peer of peers.splice(0)) peer.close();
  await started?.stop();
  started = undefined;
});

async function connect(url: string): Promise<Peer> {
  const peer = await Peer.connect(url);
  peers.push(peer);
  return peer;
}

const digest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('base64')}`;

function stor(name: string, size: number, ext: Record<string, unknown> = {}): string {
  return `STOR: ${JSON.stringify({
    filename: name,
    size,
    type: 'base64',
    parameters: [],
    v: 2,
    ext: { binary: true, window: 4, chunk: 1024, resume: null, checksum: ['sha256'], fin: true, ...ext },
  })}`;
}

/** Sends chunks [from, to) with the whole window in flight, and returns the acks in arrival order. */
async function sendPipelined(peer: Peer, data: Buffer, from: number, to: number, chunk: number) {
  let count = 0;
  for (let at = from; at < to; at += chunk) {
    peer.socket.send(data.subarray(at, Math.min(at + chunk, to)));
    count++;
  }
  const acks = [];
  for (let i = 0; i < count; i++) acks.push(await peer.next());
  return acks;
}

describe('protocol v2 session', () => {
  it('stops reading a pipelining client while its chunks wait for a slow disk, then takes them all', async () => {
    const dir = await tempDir();
    const inner = new FileStore({ dir });
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const bound = <T extends object>(target: T, value: unknown) =>
      typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    // The real file store, with every write held until the gate opens: a disk that has stalled.
    const store = new Proxy(inner, {
      get(target, prop) {
        if (prop !== 'create') return bound(target, Reflect.get(target, prop, target));
        return async (...args: Parameters<FileStore['create']>) => {
          const partial = await target.create(...args);
          return new Proxy(partial, {
            get(p, key) {
              const value = Reflect.get(p, key, p);
              if (key !== 'write') return bound(p, value);
              return async (chunk: Uint8Array) => {
                await gate;
                return (value as (c: Uint8Array) => Promise<void>).call(p, chunk);
              };
            },
          });
        };
      },
    });
    const server = await createUploadServer({ store, dir, port: 0 });
    let raw: import('node:net').Socket | undefined;
    server.on('connection', (request) => (raw = request.socket));
    try {
      const MiB = 1024 * 1024;
      const data = bytes(16 * MiB, 8);
      const peer = await connect(server.url);
      const granted = await peer.ask(stor('slow.bin', data.length, { window: 16, chunk: MiB }));
      assert.equal((granted.ext as { window: number }).window, 16);
      for (let at = 0; at < data.length; at += MiB) peer.socket.send(data.subarray(at, at + MiB));
      await new Promise((resolve) => setTimeout(resolve, 700));
      // 1 MiB waiting, 1 MiB being written, a little in the socket's read-ahead: not the whole window.
      assert.ok(
        raw!.bytesRead < 5 * MiB,
        `the server read ${raw!.bytesRead} bytes while its disk was stalled`,
      );
      openGate();
      const acks = [];
      for (let i = 0; i < 16; i++) acks.push(await peer.next(30_000));
      assert.equal(acks.at(-1)!.offset, data.length);
      const fin = await peer.ask(`FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`);
      assert.equal(fin.code, 200);
      assert.deepEqual(await readStored(dir, 'slow.bin'), data);
    } finally {
      openGate();
      await server.close();
    }
  });

  it('grants the offer within its limits and answers with v, id, offset and ext', async () => {
    started = await startServer({ maxWindow: 4, maxChunk: 2048 });
    const peer = await connect(started.url);
    const answer = await peer.ask(stor('a.bin', 10, { window: 64 }));
    assert.equal(answer.code, 200);
    assert.equal(answer.v, 2);
    assert.match(String(answer.id), /^u_[A-Za-z0-9_-]{24}$/);
    assert.equal(answer.offset, 0);
    const ext = answer.ext as Record<string, unknown>;
    assert.deepEqual(
      { ...ext, expires: undefined },
      { binary: true, window: 4, maxChunk: 2048, checksum: 'sha256', fin: true, expires: undefined },
    );
    assert.ok(Date.parse(String(ext.expires)) > Date.now());
  });

  it('acks every pipelined chunk in order with its offset, and commits only on FIN with the right SHA-256', async () => {
    started = await startServer();
    const data = bytes(10_000, 3);
    const peer = await connect(started.url);
    const answer = await peer.ask(stor('a.bin', data.length));
    const acks = await sendPipelined(peer, data, 0, data.length, 1024);
    assert.deepEqual(
      acks.map((a) => a.offset),
      Array.from({ length: 10 }, (_, i) => Math.min((i + 1) * 1024, data.length)),
    );
    assert.deepEqual(Object.keys(acks[0]!), ['type', 'code', 'bytesRead', 'offset']);
    assert.deepEqual(await storedFiles(started.dir), [], 'nothing lands before FIN');
    let landedAtAnswer: string[] | undefined;
    peer.socket.once('message', () => {
      // Checked synchronously when the answer arrives: the file must already be in place.
      landedAtAnswer = undefined;
    });
    const fin = await peer.ask(`FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`);
    landedAtAnswer = await storedFiles(started.dir);
    assert.equal(fin.type, 'FIN');
    assert.equal(fin.code, 200);
    assert.equal(fin.checksum, digest(data));
    assert.deepEqual(landedAtAnswer, ['a.bin']);
    assert.deepEqual(await readStored(started.dir, 'a.bin'), data);
    assert.deepEqual(await partialFiles(started.dir), [`${answer.id}.json`], 'no data left, only the record');
  });

  it('answers a wrong checksum with 422, deletes the partial and stores nothing', async () => {
    started = await startServer();
    const data = bytes(3000, 4);
    const peer = await connect(started.url);
    await peer.ask(stor('a.bin', data.length));
    await sendPipelined(peer, data, 0, data.length, 1024);
    const other = Buffer.from(data);
    other[100] ^= 1;
    const fin = await peer.ask(`FIN: ${JSON.stringify({ size: data.length, checksum: digest(other) })}`);
    assert.equal(fin.code, 422);
    await peer.waitClose();
    assert.deepEqual(await storedFiles(started.dir), []);
    await eventually(async () => (await partialFiles(started!.dir)).length === 0, 'partial deleted');
  });

  it('answers a FIN whose size is not what it holds with 422 and stores nothing', async () => {
    started = await startServer();
    const data = bytes(3000, 4);
    const peer = await connect(started.url);
    await peer.ask(stor('a.bin', data.length));
    await sendPipelined(peer, data, 0, 2048, 1024);
    const fin = await peer.ask(`FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`);
    assert.equal(fin.code, 422);
    assert.equal((await peer.waitClose()).code, 1007);
    assert.deepEqual(await storedFiles(started.dir), []);
  });

  it('takes base64 text chunks when binary was not offered, and acks them with offsets', async () => {
    started = await startServer();
    const data = bytes(2500, 8);
    const peer = await connect(started.url);
    const answer = await peer.ask(stor('b.bin', data.length, { binary: false }));
    assert.equal((answer.ext as { binary: boolean }).binary, false);
    const first = await peer.ask(data.subarray(0, 2000).toString('base64'));
    assert.deepEqual(first, { type: 'DATA', code: 200, bytesRead: 2000, offset: 2000 });
    const binary = await peer.ask(data.subarray(2000));
    assert.equal(binary.code, 400, 'a binary frame where base64 was agreed');
  });

  it('refuses a chunk over maxChunk with 413', async () => {
    started = await startServer({ maxChunk: 1024 });
    const peer = await connect(started.url);
    await peer.ask(stor('a.bin', 5000));
    const answer = await peer.ask(bytes(1025));
    assert.equal(answer.code, 413);
  });

  it('deletes the partial upload on ABOR, even when the client closes right after sending it', async () => {
    started = await startServer();
    const peer = await connect(started.url);
    await peer.ask(stor('a.bin', 5000));
    await sendPipelined(peer, bytes(5000), 0, 2048, 1024);
    assert.equal((await partialFiles(started.dir)).length, 2, '.part and .json');
    peer.socket.send('ABOR: {}');
    peer.close();
    await eventually(async () => (await partialFiles(started!.dir)).length === 0, 'partial deleted');
    assert.deepEqual(await storedFiles(started.dir), []);
  });

  it('resumes on a new connection from the stored offset, and the digest covers both connections', async () => {
    started = await startServer();
    const data = bytes(8192, 5);
    const first = await connect(started.url);
    const answer = await first.ask(stor('r.bin', data.length));
    await sendPipelined(first, data, 0, 3072, 1024);
    first.close();
    await first.waitClose();
    const second = await connect(started.url);
    let resumed = await second.ask(stor('r.bin', data.length, { resume: answer.id }));
    // The first connection's close may still be in the server's queue: 409 then, and a retry.
    for (let i = 0; resumed.code === 409 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const again = await connect(started.url);
      resumed = await again.ask(stor('r.bin', data.length, { resume: answer.id }));
      if (resumed.code === 200) {
        await finish(again, data, Number(resumed.offset));
        return;
      }
    }
    assert.equal(resumed.code, 200);
    assert.equal(resumed.id, answer.id);
    assert.equal(resumed.offset, 3072);
    await finish(second, data, 3072);

    async function finish(peer: Peer, file: Buffer, from: number) {
      await sendPipelined(peer, file, from, file.length, 1024);
      const fin = await peer.ask(`FIN: ${JSON.stringify({ size: file.length, checksum: digest(file) })}`);
      assert.equal(fin.code, 200);
      assert.deepEqual(await readStored(started!.dir, 'r.bin'), file);
    }
  });

  it('lets a client whose FIN answer was lost resume the committed upload and send FIN again', async () => {
    started = await startServer();
    const data = bytes(4096, 9);
    const first = await connect(started.url);
    const answer = await first.ask(stor('done.bin', data.length));
    await sendPipelined(first, data, 0, data.length, 1024);
    const fin = `FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`;
    assert.equal((await first.ask(fin)).code, 200);
    first.close();
    const second = await connect(started.url);
    const resumed = await second.ask(stor('done.bin', data.length, { resume: answer.id }));
    assert.equal(resumed.code, 200);
    assert.equal(resumed.offset, data.length);
    const again = await second.ask(fin);
    assert.equal(again.code, 200);
    assert.equal(again.filename, 'done.bin');
    assert.deepEqual(await storedFiles(started.dir), ['done.bin'], 'stored once, not twice');
  });

  it('still knows a committed upload after a restart, for a client whose FIN answer was lost', async () => {
    const dir = await tempDir();
    const data = bytes(4096, 10);
    let server = await createUploadServer({ dir, port: 0 });
    const first = await Peer.connect(server.url);
    const answer = await first.ask(stor('kept.bin', data.length));
    await sendPipelined(first, data, 0, data.length, 1024);
    const fin = `FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`;
    assert.equal((await first.ask(fin)).code, 200);
    first.close();
    await server.close();
    server = await createUploadServer({ dir, port: 0 });
    try {
      const second = await Peer.connect(server.url);
      const resumed = await second.ask(stor('kept.bin', data.length, { resume: answer.id }));
      assert.equal(resumed.code, 200);
      assert.equal(resumed.offset, data.length);
      const wrong = await Peer.connect(server.url);
      const other = await wrong.ask(stor('kept.bin', data.length + 1, { resume: answer.id }));
      assert.equal(other.code, 404, 'another size is another file');
      wrong.close();
      const again = await second.ask(fin);
      assert.equal(again.code, 200);
      assert.equal(again.filename, 'kept.bin');
      assert.equal(again.checksum, digest(data));
      assert.deepEqual(await storedFiles(dir), ['kept.bin'], 'stored once, not twice');
      second.close();
    } finally {
      await server.close();
    }
  });

  it('forgets a committed upload once its record expires, and sweeps the record', async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    const id = 'u_AAAAAAAAAAAAAAAAAAAAAAAB';
    const record = {
      size: 5,
      filename: 'f.bin',
      checksum: undefined,
      owner: 'alice',
      expiresAt: Date.now() + 60_000,
    };
    await store.remember(id, record);
    assert.deepEqual(await store.recall(id), record);
    assert.equal(await store.open(id), undefined, 'a record is not a resumable partial upload');
    assert.equal(await store.recall('../../etc/passwd'), undefined);
    await store.remember(id, { ...record, expiresAt: Date.now() - 1 });
    assert.equal(await store.recall(id), undefined);
    assert.equal(await store.expire(Date.now()), 1);
    assert.deepEqual(await partialFiles(dir), []);
  });

  it('checks a checksum first offered on a resume of an upload that started without one', async () => {
    started = await startServer();
    const data = bytes(6000, 12);
    const first = await connect(started.url);
    const answer = await first.ask(stor('late.bin', data.length, { checksum: [] }));
    assert.equal((answer.ext as { checksum: unknown }).checksum, null);
    await sendPipelined(first, data, 0, 3000, 1000);
    first.close();
    await first.waitClose();
    let resumed = { code: 409 } as Record<string, unknown>;
    for (let i = 0; resumed.code === 409 && i < 40; i++) {
      const second = await connect(started.url);
      resumed = await second.ask(stor('late.bin', data.length, { resume: answer.id }));
      if (resumed.code !== 409) {
        assert.equal(resumed.code, 200);
        assert.equal((resumed.ext as { checksum: unknown }).checksum, 'sha256');
        await sendPipelined(second, data, resumed.offset as number, data.length, 1000);
        const fin = await second.ask(`FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`);
        assert.equal(fin.code, 200, 'the bytes written before the checksum was agreed are hashed too');
        assert.equal(fin.checksum, digest(data));
      } else await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(await readStored(started.dir, 'late.bin'), data);
  });

  it("keeps the upload's file in the partial folder from its commit until the record replaces it", async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    const partial = await store.create({
      filename: 'c.bin',
      size: 3,
      resumable: { owner: null, ttl: 60_000 },
    });
    await partial.write(new Uint8Array([1, 2, 3]));
    await partial.commit();
    // Issue 15: the partial name stays (a second link to the stored data) until the record is written, so
    // that a crash in between is recovered without storing the file twice.
    assert.deepEqual(
      (await partialFiles(dir)).sort(),
      [`${partial.id}.json`, `${partial.id}.part`],
      'never a moment with neither on disk',
    );
    assert.equal(await store.open(partial.id), undefined, 'committed: no longer resumable');
    const record = {
      size: 3,
      filename: 'c.bin',
      checksum: undefined,
      owner: null,
      expiresAt: Date.now() + 60_000,
    };
    await store.remember(partial.id, record);
    assert.deepEqual(await store.recall(partial.id), record);
    assert.deepEqual(await partialFiles(dir), [`${partial.id}.json`]);
  });

  it('holds up a shutdown while the record of a committed upload is being kept', async () => {
    const dir = await tempDir();
    const inner = new FileStore({ dir });
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const work = new PendingWork({
      create: (request) => inner.create(request),
      remember: async (id, record) => {
        await gate;
        await inner.remember(id, record);
      },
    });
    const id = 'u_AAAAAAAAAAAAAAAAAAAAAAAC';
    const kept = work.store.remember!(id, {
      size: 1,
      filename: 'x',
      checksum: undefined,
      owner: null,
      expiresAt: Date.now() + 60_000,
    });
    let settled = false;
    const done = work.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(settled, false, 'settled before the record was kept');
    openGate();
    await kept;
    await done;
    assert.equal((await inner.recall(id))?.filename, 'x');
  });

  it('sweeps a record write left half-done, and runs one sweep at a time', async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    await mkdir(path.join(dir, '.partial'), { recursive: true });
    const stale = path.join(dir, '.partial', 'u_AAAAAAAAAAAAAAAAAAAAAAAD.json.tmp');
    const fresh = path.join(dir, '.partial', 'u_AAAAAAAAAAAAAAAAAAAAAAAE.json.tmp');
    await writeFile(stale, '{"id":');
    await writeFile(fresh, '{"id":');
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    await utimes(stale, old, old);
    const first = store.expire(Date.now());
    assert.equal(store.expire(Date.now()), first, 'a second sweep joins the one running');
    await first;
    assert.deepEqual(
      await partialFiles(dir),
      ['u_AAAAAAAAAAAAAAAAAAAAAAAE.json.tmp'],
      'only the stale one goes',
    );
  });

  it('answers 404 to an unknown id and keeps the connection for a fresh STOR', async () => {
    started = await startServer();
    const peer = await connect(started.url);
    const answer = await peer.ask(stor('a.bin', 10, { resume: 'u_AAAAAAAAAAAAAAAAAAAAAAAA' }));
    assert.equal(answer.code, 404);
    const fresh = await peer.ask(stor('a.bin', 10));
    assert.equal(fresh.code, 200);
  });

  it('lets a resume take over from another live connection: the newer wins, the older is closed (1008)', async () => {
    // Issue 15: the id is the capability (no user here), and the old connection is often a dead one.
    started = await startServer();
    const holder = await connect(started.url);
    const answer = await holder.ask(stor('a.bin', 5000));
    const newer = await connect(started.url);
    const resumed = await newer.ask(stor('a.bin', 5000, { resume: answer.id }));
    assert.equal(resumed.code, 200);
    assert.equal((await holder.waitClose()).code, 1008);
  });

  it('binds an upload to the authenticated user: another user gets 403', async () => {
    started = await startServer({ authenticate: () => true });
    const alice = await connect(started.url);
    await alice.ask('AUTH: {"login":"alice","password":"x"}');
    const answer = await alice.ask(stor('a.bin', 5000));
    alice.close();
    await alice.waitClose();
    const bob = await connect(started.url);
    await bob.ask('AUTH: {"login":"bob","password":"x"}');
    let refused = await bob.ask(stor('a.bin', 5000, { resume: answer.id }));
    for (let i = 0; refused.code === 409 && i < 20; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const again = await connect(started.url);
      await again.ask('AUTH: {"login":"bob","password":"x"}');
      refused = await again.ask(stor('a.bin', 5000, { resume: answer.id }));
    }
    assert.equal(refused.code, 403);
  });

  it('resumes after a server restart on the same folder, re-hashing what it held', async () => {
    const dir = await tempDir();
    const data = bytes(50_000, 6);
    let server = await createUploadServer({ dir, port: 0 });
    const first = await Peer.connect(server.url);
    const answer = await first.ask(stor('k.bin', data.length, { chunk: 4096 }));
    await sendPipelined(first, data, 0, 20_000, 4096);
    await server.close();
    server = await createUploadServer({ dir, port: 0 });
    try {
      const second = await Peer.connect(server.url);
      const resumed = await second.ask(stor('k.bin', data.length, { resume: answer.id }));
      assert.equal(resumed.code, 200);
      assert.equal(resumed.offset, 20_000);
      await sendPipelined(second, data, 20_000, data.length, 4096);
      const fin = await second.ask(`FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`);
      assert.equal(fin.code, 200);
      assert.deepEqual(await readStored(dir, 'k.bin'), data);
      second.close();
    } finally {
      await server.close();
    }
  });

  it('expires abandoned partial uploads that nobody holds', async () => {
    const dir = await tempDir();
    const store = new FileStore({ dir });
    const held = await store.create({ filename: 'h', size: 5, resumable: { owner: null, ttl: 1 } });
    held.hold();
    const old = await store.create({ filename: 'o', size: 5, resumable: { owner: null, ttl: 1 } });
    await old.release();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(await store.expire(Date.now()), 1);
    const left = await readdir(path.join(dir, '.partial'));
    assert.deepEqual(left.sort(), [`${held.id}.json`, `${held.id}.part`].sort());
    assert.equal(await store.open(old.id), undefined);
    await stat(path.join(dir, '.partial', `${held.id}.part`));
  });
});
