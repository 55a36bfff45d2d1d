// Storage faults and shutdown: the client hears a documented code, nothing that looks complete is left,
// and the server stays up; SIGTERM closes connections with 1001 and the CLI exits within its bound.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { FileStore, type PartialUpload, type UploadStore } from '../../src/server/index.ts';
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

type Operation = 'create' | 'write' | 'commit';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

/**
 * A file store that fails where the file name says: `fail-<op>-<ERRNO>.bin` fails that operation with that
 * errno (`fail-write-ENOSPC.bin`); any other name is stored normally.
 */
class FaultyStore implements UploadStore {
  readonly inner: FileStore;
  discarded = 0;

  constructor(dir: string) {
    this.inner = new FileStore({ dir });
  }

  #fault(filename: string, operation: Operation): NodeJS.ErrnoException | undefined {
    const match = /^fail-(create|write|commit)-([A-Z]+)/.exec(filename);
    return match && match[1] === operation ? errno(match[2]!) : undefined;
  }

  async create(request: { filename: string; size: number; folder?: string }): Promise<PartialUpload> {
    const fault = this.#fault(request.filename, 'create');
    if (fault) throw fault;
    const partial = await this.inner.create(request);
    const faultOf = (operation: Operation) => this.#fault(request.filename, operation);
    const counted = () => this.discarded++;
    return v1Partial({
      get offset() {
        return partial.offset;
      },
      async write(chunk) {
        const failure = faultOf('write');
        if (failure && partial.offset > 0) throw failure;
        return partial.write(chunk);
      },
      async commit() {
        const failure = faultOf('commit');
        if (failure) throw failure;
        return partial.commit();
      },
      async discard() {
        counted();
        return partial.discard();
      },
    });
  }
}

describe('storage faults', () => {
  let env: Awaited<ReturnType<typeof startServer>>;
  let store: FaultyStore;
  let dir: string;
  const failed: { code: number }[] = [];
  before(async () => {
    dir = await tempDir();
    store = new FaultyStore(dir);
    env = await startServer({ store, dir });
    env.server.on('failed', (info) => failed.push(info));
  });
  after(async () => {
    await env.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [name: string, type: string, code: number][] = [
    ['fail-write-EIO.bin', 'DATA', 500],
    ['fail-write-ENOSPC.bin', 'DATA', 507],
    ['fail-write-EDQUOT.bin', 'DATA', 507],
    ['fail-write-EROFS.bin', 'DATA', 500],
    ['fail-create-ENOSPC.bin', 'STOR', 507],
    ['fail-create-EACCES.bin', 'STOR', 500],
    ['fail-commit-ENOSPC.bin', 'DATA', 507],
    ['fail-commit-EIO.bin', 'DATA', 500],
  ];
  for (const [name, type, code] of cases) {
    it(`${name} → ${type} ${code}, close 1011, no file, partial removed, server up`, async () => {
      const peer = await Peer.connect(env.url);
      const data = bytes(3000, 3);
      let answer = await peer.ask(
        `STOR: ${JSON.stringify({ filename: name, size: data.length, type: 'binary' })}`,
      );
      for (let at = 0; answer.code === 200 && at < data.length; at += 1000) {
        answer = await peer.ask(data.subarray(at, at + 1000));
      }
      assert.equal(answer.code, code, JSON.stringify(answer));
      assert.equal(answer.type, type);
      assert.doesNotMatch(answer.message as string, /\//, 'no path in the message');
      assert.equal((await peer.waitClose()).code, 1011);
      assert.deepEqual(await storedFiles(dir), []);
      await eventually(async () => (await partialFiles(dir)).length === 0, 'the partial upload to go');
      assert.equal(env.server.activeUploads, 0);
      assert.equal(failed.at(-1)?.code, code);
    });
  }

  it('still stores a good file after every fault', async () => {
    const peer = await Peer.connect(env.url);
    const data = bytes(5000, 4);
    await uploadV1(peer, 'good.bin', data, 'binary', 1000);
    peer.close();
    assert.equal(sha256(await readStored(dir, 'good.bin')), sha256(data));
  });
});

describe('a real full device', () => {
  it('ENOSPC from the kernel (writes to /dev/full) → 507, server up', async () => {
    const { open } = await import('node:fs/promises');
    // Every write to /dev/full fails with ENOSPC: the errno comes from the OS, not from a test double.
    const full: UploadStore = {
      async create() {
        const handle = await open('/dev/full', 'w');
        let offset = 0;
        return v1Partial({
          get offset() {
            return offset;
          },
          async write(chunk) {
            await handle.write(chunk);
            offset += chunk.byteLength;
          },
          async commit() {
            throw new Error('unreachable: nothing can be written');
          },
          async discard() {
            await handle.close().catch(() => undefined);
          },
        });
      },
    };
    const env = await startServer({ store: full });
    try {
      const peer = await Peer.connect(env.url);
      assert.equal((await peer.ask('STOR: {"filename":"a.bin","size":10,"type":"binary"}')).code, 200);
      const answer = await peer.ask(Buffer.alloc(10));
      assert.equal(answer.code, 507, JSON.stringify(answer));
      assert.match(answer.message as string, /ENOSPC/);
      assert.equal((await peer.waitClose()).code, 1011);
      const health = await fetch(env.url.replace('ws:', 'http:').replace('/upload', '/healthz'));
      assert.equal(health.status, 200);
    } finally {
      await env.stop();
    }
  });
});

describe('SIGTERM to the CLI', () => {
  const SHUTDOWN_BOUND_S = 3;

  async function startCli(dir: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/server/cli.ts',
        '--dir',
        dir,
        '--port',
        '0',
        '--shutdown-timeout',
        String(SHUTDOWN_BOUND_S),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (chunk) => (out += chunk));
    child.stderr!.on('data', (chunk) => (out += chunk));
    await eventually(() => /ws:\/\/127\.0\.0\.1:\d+\/upload/.test(out), 'the CLI to print its URL', 15000);
    return { child, url: /ws:\/\/127\.0\.0\.1:\d+\/upload/.exec(out)![0], output: () => out };
  }

  it('closes an upload in progress with 1001, exits 0 within the bound; the retried upload is identical', async () => {
    const dir = await tempDir();
    const data = bytes(50_000, 11);
    const first = await startCli(dir);
    try {
      const peer = await Peer.connect(first.url);
      await peer.ask(`STOR: {"filename":"movie.bin","size":${data.length},"type":"binary"}`);
      await peer.ask(data.subarray(0, 20_000));
      const exited = new Promise<number | null>((resolve) =>
        first.child.once('exit', (code) => resolve(code)),
      );
      const signalledAt = Date.now();
      first.child.kill('SIGTERM');
      assert.equal((await peer.waitClose(SHUTDOWN_BOUND_S * 1000)).code, 1001);
      assert.equal(await exited, 0, first.output());
      assert.ok(Date.now() - signalledAt < SHUTDOWN_BOUND_S * 1000, `${Date.now() - signalledAt} ms`);
      assert.match(first.output(), /"event":"upload.fail"/);
      // v1 has no resume: nothing that looks complete is left, and the partial is gone.
      assert.deepEqual(await storedFiles(dir), []);
      assert.deepEqual(await partialFiles(dir), []);
    } finally {
      first.child.kill('SIGKILL');
    }
    const second = await startCli(dir);
    try {
      const peer = await Peer.connect(second.url);
      await uploadV1(peer, 'movie.bin', data, 'binary', 10_000);
      peer.close();
      assert.deepEqual(await storedFiles(dir), ['movie.bin']);
      assert.equal(sha256(await readStored(dir, 'movie.bin')), sha256(data));
    } finally {
      second.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Completes a v1-only test double with the v2 members of PartialUpload, which these tests never reach. */
function v1Partial(partial: Pick<PartialUpload, 'offset' | 'write' | 'commit' | 'discard'>): PartialUpload {
  return Object.defineProperties(
    {
      id: 'stub',
      size: 0,
      filename: 'stub',
      owner: null,
      expiresAt: Infinity,
      held: false,
      hold: () => undefined,
      release: async () => undefined,
      sha256: async () => new Uint8Array(32),
    },
    Object.getOwnPropertyDescriptors(partial),
  ) as PartialUpload;
}
