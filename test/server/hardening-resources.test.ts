// Resources held by uploads that never finish, and resume ids in an attacker's hands (issue 15, wave 2),
// against the CLI: an upload that stops mid-way is closed at the idle timeout, kept for its resume until
// `--partial-expiry`, then removed even when nobody connects again; a resume that does not match what was
// started is refused without touching it; ids carry enough entropy to be unguessable and only their owner
// may resume or abort them.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hashPassword } from '../../src/server/access.ts';
import { startCli, type CliProcess } from '../helpers/cli-process.ts';
import {
  bytes,
  eventually,
  finFor,
  partialFiles,
  Peer,
  readStored,
  sha256,
  storedFiles,
  storV2 as storV2For,
  tempDir,
} from './peer.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const storV2 = (size: number, resume: string | null = null, filename = 'r.bin') =>
  storV2For(filename, size, resume);
const fin = finFor;

async function cli(args: string[]): Promise<{ cli: CliProcess; dir: string }> {
  const dir = await tempDir();
  const started = await startCli(['--dir', dir, ...args]);
  cleanups.push(async () => {
    await started.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { cli: started, dir };
}

describe('an upload that stops mid-way forever (CLI, --idle-timeout 1 --partial-expiry 3)', () => {
  it('closed at the idle timeout, kept for a resume, then removed at its expiry though nobody connects', async () => {
    const { cli: server, dir } = await cli(['--idle-timeout', '1', '--partial-expiry', '3']);
    const peer = await Peer.connect(server.url);
    const started = await peer.ask(storV2(100_000));
    assert.equal(started.code, 200);
    assert.equal((await peer.ask(bytes(10_000, 1))).code, 200);
    // Then nothing: the server closes it (1001) within a bound, and keeps the bytes for the resume.
    assert.equal((await peer.waitClose(5000)).code, 1001);
    const kept = await partialFiles(dir);
    assert.ok(
      kept.some((name) => name.endsWith('.part')),
      kept.join(', '),
    );
    // No connection comes: the expired upload must still go (its .part and its record).
    await eventually(
      async () => (await partialFiles(dir)).length === 0,
      'the expired upload to be removed',
      15_000,
    );
    assert.deepEqual(await storedFiles(dir), []);
    // And its id is gone for good.
    const late = await Peer.connect(server.url);
    const refused = await late.ask(storV2(100_000, started.id as string));
    assert.equal(refused.code, 404, JSON.stringify(refused));
    late.close();
  });
});

describe('resume ids in an attacker’s hands (CLI)', () => {
  it('a resume that does not match the upload (size, a forged id) is refused and leaves it intact', async () => {
    const { cli: server, dir } = await cli([]);
    const data = bytes(50_000, 2);
    const first = await Peer.connect(server.url);
    const started = await first.ask(storV2(data.length));
    const id = started.id as string;
    assert.equal((await first.ask(data.subarray(0, 20_000))).code, 200);
    first.close();
    await first.waitClose();
    for (const [what, frame] of [
      ['another size', storV2(data.length + 1, id)],
      ['a smaller size', storV2(10, id)],
      [
        'a forged id of the same shape',
        storV2(data.length, `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`),
      ],
      ['an id with a path in it', storV2(data.length, `u_../../${id.slice(8)}`)],
    ] as const) {
      const peer = await Peer.connect(server.url);
      const answer = await peer.ask(frame);
      assert.ok(answer.code === 404 || answer.code === 400, `${what}: ${JSON.stringify(answer)}`);
      peer.socket.terminate();
    }
    // The real resume continues where the bytes stopped, and the file is whole.
    const again = await Peer.connect(server.url);
    const resumed = await again.ask(storV2(data.length, id));
    assert.equal(resumed.code, 200, JSON.stringify(resumed));
    assert.equal(resumed.offset, 20_000);
    assert.equal((await again.ask(data.subarray(20_000))).code, 200);
    assert.equal((await again.ask(fin(data))).code, 200);
    assert.equal(sha256(await readStored(dir, 'r.bin')), sha256(data));
    again.close();
  });

  it('ids are unguessable (≥ 128 random bits, all distinct) and only their owner resumes or aborts (--htpasswd)', async () => {
    const users = path.join(await tempDir(), 'users');
    await writeFile(
      users,
      `${await hashPassword('ann', 'ann-pw')}\n${await hashPassword('bob', 'bob-pw')}\n`,
    );
    cleanups.push(() => rm(path.dirname(users), { recursive: true, force: true }));
    const { cli: server } = await cli(['--htpasswd', users, '--max-connection-rate-per-client', '1000']);
    const login = async (user: string) => {
      const peer = await Peer.connect(server.url);
      assert.equal(
        (await peer.ask(`AUTH: ${JSON.stringify({ login: user, password: `${user}-pw` })}`)).code,
        200,
      );
      return peer;
    };
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const peer = await login('ann');
      const answer = await peer.ask(storV2(1000, null, `i${i}.bin`));
      assert.equal(answer.code, 200);
      const id = answer.id as string;
      // u_ and base64url: 24 characters are 144 bits.
      assert.match(id, /^u_[A-Za-z0-9_-]{22,}$/);
      ids.add(id);
      peer.close();
    }
    assert.equal(ids.size, 50, 'all distinct');
    const [annsId] = ids;
    const bob = await login('bob');
    const notYours = await bob.ask(storV2(1000, annsId!));
    assert.equal(notYours.code, 403, JSON.stringify(notYours));
    const bob2 = await login('bob');
    const abor = await bob2.ask(`ABOR: ${JSON.stringify({ id: annsId })}`);
    assert.equal(abor.code, 403, JSON.stringify(abor));
    bob2.close();
    const ann = await login('ann');
    const mine = await ann.ask(storV2(1000, annsId!));
    assert.equal(mine.code, 200, JSON.stringify(mine));
    ann.close();
  });
});

describe('unfinished uploads left behind by one address (CLI, --max-unfinished-per-client)', () => {
  const kept = async (dir: string) =>
    (await partialFiles(dir)).filter((name) => name.endsWith('.part')).length;

  it('each abandoned resumable upload holds files for a day: past the cap, STOR 429; others unaffected', async () => {
    const { cli: server, dir } = await cli(['--max-unfinished-per-client', '5']);
    // An attacker starts resumable uploads and drops each at once: no bytes, but two files kept for 24 h.
    for (let i = 0; i < 5; i++) {
      const peer = await Peer.connect(server.url);
      assert.equal((await peer.ask(storV2(10 ** 9, null, `a${i}.bin`))).code, 200);
      peer.socket.terminate();
    }
    await eventually(async () => (await kept(dir)) === 5, 'the five kept for their resume');
    const peer = await Peer.connect(server.url);
    const refused = await peer.ask(storV2(10 ** 9, null, 'more.bin'));
    assert.equal(refused.code, 429, JSON.stringify(refused));
    assert.match(refused.message as string, /unfinished/i);
    assert.ok((refused.retryAfter as number) > 0);
    assert.equal(await kept(dir), 5, 'nothing more kept');
    // A v1 upload (nothing is kept when it drops) and another address still get in.
    const data = bytes(5000, 3);
    const v1 = await Peer.connect(server.url);
    assert.equal((await v1.ask('STOR: {"filename":"v1.bin","size":5000,"type":"binary"}')).code, 200);
    assert.equal((await v1.ask(data)).code, 200);
    v1.close();
    assert.equal(sha256(await readStored(dir, 'v1.bin')), sha256(data));
    const other = await Peer.connect(server.url, undefined, { localAddress: '127.0.0.2' });
    assert.equal((await other.ask(storV2(10, null, 'other.bin'))).code, 200);
    other.close();
  });

  it('an upload the client aborted is not counted as left behind, and frees its slot at once', async () => {
    const { cli: server, dir } = await cli([
      '--max-unfinished-per-client',
      '1',
      '--max-uploads-per-client',
      '1',
    ]);
    // Deleted by ABOR: nothing stays on disk, so closing afterwards leaves nothing to count.
    for (let i = 0; i < 3; i++) {
      const peer = await Peer.connect(server.url);
      assert.equal((await peer.ask(storV2(10 ** 6, null, `c${i}.bin`))).code, 200);
      assert.equal((await peer.ask('ABOR: {}')).code, 200);
      peer.close();
    }
    // On one connection: the aborted upload's slot is free for the next STOR there.
    const peer = await Peer.connect(server.url);
    for (let i = 0; i < 3; i++) {
      const stor = await peer.ask(storV2(10 ** 6, null, `same${i}.bin`));
      assert.equal(stor.code, 200, JSON.stringify(stor));
      assert.equal((await peer.ask('ABOR: {}')).code, 200);
    }
    peer.close();
    assert.equal(await kept(dir), 0, 'nothing kept');
  });

  it('a dropped upload that was resumed and finished no longer counts', async () => {
    const { cli: server, dir } = await cli(['--max-unfinished-per-client', '1']);
    const data = bytes(4000, 4);
    const first = await Peer.connect(server.url);
    const started = await first.ask(storV2(data.length));
    assert.equal((await first.ask(data.subarray(0, 1000))).code, 200);
    first.socket.terminate();
    await eventually(async () => (await kept(dir)) === 1, 'kept for the resume');
    const again = await Peer.connect(server.url);
    const resumed = await again.ask(storV2(data.length, started.id as string));
    assert.equal(resumed.code, 200, JSON.stringify(resumed));
    assert.equal((await again.ask(data.subarray(resumed.offset as number))).code, 200);
    assert.equal((await again.ask(fin(data))).code, 200);
    again.close();
    const next = await Peer.connect(server.url);
    assert.equal((await next.ask(storV2(10, null, 'next.bin'))).code, 200, 'the cap is free again');
    next.close();
  });
});
