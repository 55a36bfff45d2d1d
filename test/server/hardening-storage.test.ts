// Storage failures beyond the data write (issue 15, wave 2): a delete that fails (ABOR, a dropped or refused
// v1 upload), a disk that fills during the data or at the commit, a folder the server may not write. Each
// gives a clear wire code and message, never a crash, never a file in the folder that looks complete.
// The disk is real where it can be: a 1 MiB tmpfs mounted by the test, the CLI run as `nobody` for EACCES.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CommitHookStore } from '../helpers/commit-hook-store.ts';
import { startCli, type CliProcess } from '../helpers/cli-process.ts';
import {
  bytes,
  eventually,
  finFor,
  partialFiles,
  Peer,
  readStored,
  sha256,
  startServer,
  storV2,
  storedFiles,
  tempDir,
  uploadV1,
} from './peer.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const fin = finFor;
const eio = () => Object.assign(new Error('EIO: simulated i/o error, unlink /secret/path'), { code: 'EIO' });

/** Sends `data` in chunks, each answered; stops at the first answer that is not 200 and returns it. */
async function sendChunks(peer: Peer, data: Buffer, chunk: number): Promise<Record<string, unknown>> {
  let answer: Record<string, unknown> = { code: 200 };
  for (let at = 0; answer.code === 200 && at < data.length; at += chunk) {
    answer = await peer.ask(data.subarray(at, at + chunk));
  }
  return answer;
}

describe('a delete that fails', () => {
  // A store failure the session does not catch becomes an unhandled rejection: in the CLI, a crash.
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => unhandled.push(reason);
  before(() => process.on('unhandledRejection', record));
  after(() => process.off('unhandledRejection', record));

  async function started() {
    const dir = await tempDir();
    const store = new CommitHookStore(dir);
    store.beforeDiscard = async () => {
      throw eio();
    };
    const env = await startServer({ store, dir });
    cleanups.push(() => env.stop());
    unhandled.length = 0;
    return { env, dir, store };
  }

  /** The server still stores a file, byte for byte, and nothing escaped as an unhandled rejection. */
  async function stillServes(env: Awaited<ReturnType<typeof startServer>>, dir: string) {
    const data = bytes(5000, 9);
    const peer = await Peer.connect(env.url);
    const answers = await uploadV1(peer, 'after.bin', data, 'binary', 1000);
    assert.ok(
      answers.every((answer) => answer.code === 200),
      JSON.stringify(answers),
    );
    peer.close();
    assert.equal(sha256(await readStored(dir, 'after.bin')), sha256(data));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection (the CLI would exit)');
  }

  it('ABOR of the upload in progress → ABOR 500 naming the errno, not a DATA or STOR answer', async () => {
    const { env, dir } = await started();
    const peer = await Peer.connect(env.url);
    const data = bytes(4000, 1);
    assert.equal((await peer.ask(storV2('gone.bin', data.length))).code, 200);
    assert.equal((await peer.ask(data.subarray(0, 1000))).code, 200);
    const answer = await peer.ask('ABOR: {}');
    assert.equal(answer.type, 'ABOR', JSON.stringify(answer));
    assert.equal(answer.code, 500);
    assert.match(answer.message as string, /delete/i);
    assert.match(answer.message as string, /EIO/);
    assert.doesNotMatch(answer.message as string, /\//, 'no path in the message');
    assert.equal((await peer.waitClose()).code, 1011);
    assert.deepEqual(await storedFiles(dir), []);
    await stillServes(env, dir);
  });

  it('ABOR by id from another connection → ABOR 500', async () => {
    const { env, dir } = await started();
    const first = await Peer.connect(env.url);
    const data = bytes(4000, 2);
    const started_ = await first.ask(storV2('kept.bin', data.length));
    assert.equal(started_.code, 200);
    assert.equal((await first.ask(data.subarray(0, 1000))).code, 200);
    first.close();
    await first.waitClose();
    await eventually(() => env.server.activeUploads === 0, 'the first connection to let go');
    const second = await Peer.connect(env.url);
    let answer = await second.ask(`ABOR: ${JSON.stringify({ id: started_.id })}`);
    // 409 (kept open) until the first connection's session has let the upload go: ask again, bounded.
    for (let tries = 0; answer.code === 409 && tries < 40; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await second.ask(`ABOR: ${JSON.stringify({ id: started_.id })}`);
    }
    assert.equal(answer.type, 'ABOR', JSON.stringify(answer));
    assert.equal(answer.code, 500);
    assert.match(answer.message as string, /EIO/);
    await stillServes(env, dir);
  });

  it('a store that fails to open an id: ABOR by id → ABOR 500, a resume → STOR 500', async () => {
    const { env, dir, store } = await started();
    store.beforeOpen = async () => {
      throw eio();
    };
    const id = 'u_AAAAAAAAAAAAAAAAAAAAAAAA';
    const abor = await (await Peer.connect(env.url)).ask(`ABOR: ${JSON.stringify({ id })}`);
    assert.equal(abor.type, 'ABOR', JSON.stringify(abor));
    assert.equal(abor.code, 500);
    assert.match(abor.message as string, /EIO/);
    const resume = await (await Peer.connect(env.url)).ask(storV2('r.bin', 10, id));
    assert.equal(resume.type, 'STOR', JSON.stringify(resume));
    assert.equal(resume.code, 500);
    await stillServes(env, dir);
  });

  it('a v1 upload dropped mid-way while its delete fails: the server stays up', async () => {
    const { env, dir } = await started();
    const peer = await Peer.connect(env.url);
    const data = bytes(4000, 3);
    assert.equal((await peer.ask(`STOR: {"filename":"drop.bin","size":4000,"type":"binary"}`)).code, 200);
    assert.equal((await peer.ask(data.subarray(0, 1000))).code, 200);
    peer.socket.terminate();
    await eventually(() => env.server.activeUploads === 0, 'the upload to be let go');
    assert.deepEqual(await storedFiles(dir), []);
    await stillServes(env, dir);
  });

  it('a v1 upload refused (more bytes than declared) while its delete fails: 413, server up', async () => {
    const { env, dir } = await started();
    const peer = await Peer.connect(env.url);
    assert.equal((await peer.ask(`STOR: {"filename":"big.bin","size":10,"type":"binary"}`)).code, 200);
    const answer = await peer.ask(bytes(20, 4));
    assert.equal(answer.code, 413, JSON.stringify(answer));
    assert.equal((await peer.waitClose()).code, 1009);
    assert.deepEqual(await storedFiles(dir), []);
    await stillServes(env, dir);
  });
});

describe('a real full disk (1 MiB tmpfs) under the CLI', () => {
  const MIB = 1024 * 1024;
  let mountPoint: string;
  let dir: string;
  let cli: CliProcess;
  before(async () => {
    mountPoint = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', mountPoint]);
    dir = path.join(mountPoint, 'uploads');
    cli = await startCli(['--dir', dir]);
  });
  after(async () => {
    await cli?.stop();
    execFileSync('umount', [mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
  });
  const free = async () => {
    const stats = await statfs(mountPoint);
    return stats.bavail * stats.bsize;
  };

  it('v1: the disk fills during the data → DATA 507 ENOSPC, close 1011, nothing left, the next upload stored', async () => {
    const peer = await Peer.connect(cli.url);
    const data = bytes(Math.floor(1.5 * MIB), 5);
    const answer = await peer.ask(`STOR: {"filename":"huge.bin","size":${data.length},"type":"binary"}`);
    assert.equal(answer.code, 200);
    const refused = await sendChunks(peer, data, 64 * 1024);
    assert.equal(refused.type, 'DATA', JSON.stringify(refused));
    assert.equal(refused.code, 507);
    assert.match(refused.message as string, /ENOSPC/);
    assert.equal((await peer.waitClose()).code, 1011);
    assert.deepEqual(await storedFiles(dir), [], 'no half-written file in the folder');
    await eventually(async () => (await partialFiles(dir)).length === 0, 'the partial upload to go');
    assert.ok((await free()) > 0.9 * MIB, 'the space came back');
    const small = bytes(64 * 1024, 6);
    const next = await Peer.connect(cli.url);
    await uploadV1(next, 'small.bin', small, 'binary', 16 * 1024);
    next.close();
    assert.equal(sha256(await readStored(dir, 'small.bin')), sha256(small));
    await rm(path.join(dir, 'small.bin'));
    assert.ok(cli.running());
  });

  it('v2: the disk fills in the middle of a chunk → DATA 507, kept; freed, the resume continues from the bytes stored', async () => {
    const filler = path.join(mountPoint, 'filler-v2');
    const data = bytes(512 * 1024, 12);
    const peer = await Peer.connect(cli.url);
    const started = await peer.ask(storV2('mid.bin', data.length));
    assert.equal(started.code, 200, JSON.stringify(started));
    // Room for 200 KiB of it: the fourth 64 KiB chunk meets the full disk part-way.
    await writeFile(filler, Buffer.alloc((await free()) - 200 * 1024));
    const refused = await sendChunks(peer, data, 64 * 1024);
    assert.equal(refused.type, 'DATA', JSON.stringify(refused));
    assert.equal(refused.code, 507);
    assert.equal((await peer.waitClose()).code, 1011);
    assert.deepEqual(await storedFiles(dir), []);
    await rm(filler);
    const again = await Peer.connect(cli.url);
    const resumed = await again.ask(storV2('mid.bin', data.length, started.id as string));
    assert.equal(resumed.code, 200, JSON.stringify(resumed));
    const offset = resumed.offset as number;
    assert.ok(offset >= 3 * 64 * 1024 && offset < data.length, `resumed at ${offset}`);
    assert.equal((await sendChunks(again, data.subarray(offset), 64 * 1024)).code, 200);
    const done = await again.ask(fin(data));
    assert.equal(done.code, 200, JSON.stringify(done));
    assert.equal(sha256(await readStored(dir, 'mid.bin')), sha256(data));
    await rm(path.join(dir, 'mid.bin'));
    again.close();
  });

  it('v2: the data fits but the commit does not → FIN 507, nothing in the folder; freed, the resume stores it', async () => {
    const filler = path.join(mountPoint, 'filler');
    const peer = await Peer.connect(cli.url);
    const data = bytes(256 * 1024, 7);
    const started = await peer.ask(storV2('tight.bin', data.length));
    assert.equal(started.code, 200, JSON.stringify(started));
    // Leave exactly the room the data needs: the commit's record (written aside, then renamed) finds none.
    await writeFile(filler, Buffer.alloc((await free()) - data.length));
    assert.equal((await sendChunks(peer, data, 64 * 1024)).code, 200);
    assert.equal(await free(), 0);
    const refused = await peer.ask(fin(data));
    assert.equal(refused.type, 'FIN', JSON.stringify(refused));
    assert.equal(refused.code, 507);
    assert.match(refused.message as string, /ENOSPC/);
    assert.equal((await peer.waitClose()).code, 1011);
    assert.deepEqual(await storedFiles(dir), [], 'nothing that looks complete');
    assert.ok(cli.running());

    await rm(filler);
    const again = await Peer.connect(cli.url);
    const resumed = await again.ask(storV2('tight.bin', data.length, started.id as string));
    assert.equal(resumed.code, 200, JSON.stringify(resumed));
    assert.equal((await sendChunks(again, data.subarray(resumed.offset as number), 64 * 1024)).code, 200);
    const done = await again.ask(fin(data));
    assert.equal(done.code, 200, JSON.stringify(done));
    assert.deepEqual(await storedFiles(dir), ['tight.bin']);
    assert.equal(sha256(await readStored(dir, 'tight.bin')), sha256(data));
    again.close();
  });
});

describe('a folder the server may not write (EACCES, the CLI as nobody)', () => {
  const NOBODY = 65534;
  let dir: string;
  let cli: CliProcess;
  before(async () => {
    const parent = await tempDir();
    await chmod(parent, 0o755);
    dir = path.join(parent, 'uploads');
    await mkdir(dir);
    await chown(dir, NOBODY, NOBODY);
    cli = await startCli(['--dir', dir], { uid: NOBODY, gid: NOBODY });
    cleanups.push(() => undefined);
  });
  after(async () => {
    await cli?.stop();
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  it('the upload folder read-only → DATA 500 naming EACCES at the commit, no file, unready; writable again → stored', async () => {
    const peer = await Peer.connect(cli.url);
    // .partial exists once the server swept it at the start; the folder above it turns read-only.
    await eventually(async () => (await partialFiles(dir)).length >= 0, 'started');
    assert.equal((await peer.ask(`STOR: {"filename":"ro.bin","size":3000,"type":"binary"}`)).code, 200);
    await chmod(dir, 0o555);
    const refused = await sendChunks(peer, bytes(3000, 8), 1000);
    assert.equal(refused.code, 500, JSON.stringify(refused));
    assert.match(refused.message as string, /EACCES/);
    assert.match(refused.message as string, /permission/i);
    assert.equal((await peer.waitClose()).code, 1011);
    assert.deepEqual(await storedFiles(dir), []);
    const health = await fetch(cli.http('/healthz'));
    assert.equal(health.status, 503, 'not ready while the folder is not writable');
    await chmod(dir, 0o755);
    const data = bytes(3000, 10);
    const next = await Peer.connect(cli.url);
    await uploadV1(next, 'rw.bin', data, 'binary', 1000);
    next.close();
    assert.equal(sha256(await readStored(dir, 'rw.bin')), sha256(data));
    assert.ok(cli.running());
  });

  it('the partial folder read-only → STOR 500 naming EACCES', async () => {
    const partial = path.join(dir, '.partial');
    await chmod(partial, 0o555);
    cleanups.push(() => chmod(partial, 0o700));
    const peer = await Peer.connect(cli.url);
    const refused = await peer.ask(`STOR: {"filename":"p.bin","size":3000,"type":"binary"}`);
    assert.equal(refused.type, 'STOR', JSON.stringify(refused));
    assert.equal(refused.code, 500);
    assert.match(refused.message as string, /EACCES/);
    assert.equal((await peer.waitClose()).code, 1011);
    assert.ok(cli.running());
  });
});
