// Client-side dead-peer detection (issue 15), with the real core in Node against the real server: a proxy
// black-holes the open connection (bytes swallowed both ways, no FIN, no RST) while new connections pass.
// The client, which cannot send WebSocket pings, notices from the server's keep-alive messages stopping
// (`alive`), within the documented bound (2 × alive + 1 s), long before its answer timeout; it resumes on a
// new connection, which takes the stale hold over at once (the server's own heartbeat is set far off, so
// only the client's detection can free the upload). A connection that is quiet but alive — the server slow
// to commit FIN — is not taken for dead. Stored bytes are compared by SHA-256.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { silenceBound } from '../../src/core/liveness.ts';
import type { RetryingDetail } from '../../src/core/index.ts';
import { CommitHookStore, gate } from '../helpers/commit-hook-store.ts';
import { runTransfer } from '../helpers/node-client.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { bytes, readStored, sha256, startServer, storedFiles, tempDir } from '../server/peer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const fileOf = (data: Buffer, name: string) => new File([new Uint8Array(data)], name);
const ALIVE = 200;
/** Far above the liveness bound: a detection that took this long was the answer timeout's, not liveness. */
const ANSWER_TIMEOUT = 60_000;
/** Timers of a loaded machine fire late; this much beyond the bound is still the bound, not the timeout. */
const TIMER_SLACK = 5000;

describe('client-side dead-peer detection', () => {
  it('a black-holed connection is noticed within 2 × alive + 1 s and resumed, taking the stale hold over', async () => {
    const env = await startServer({ aliveInterval: ALIVE, heartbeatInterval: 600_000 });
    cleanups.push(() => env.stop());
    const proxy = await TcpProxy.start(env.server.port);
    cleanups.push(() => proxy.close());
    const data = bytes(3 * 1024 * 1024 + 17, 31);
    let blackholedAt = 0;
    const retries: (RetryingDetail & { at: number })[] = [];
    const outcome = await runTransfer(
      {
        url: `ws://127.0.0.1:${proxy.port}/upload`,
        file: fileOf(data, 'silent.bin'),
        v2ChunkSize: 64 * 1024,
        window: 4,
        answerTimeout: ANSWER_TIMEOUT,
        retryDelays: [0, 100, 200, 400, 800],
      },
      {
        timeout: 60_000,
        onProgress: (detail, transfer) => {
          if (blackholedAt !== 0 || detail.loaded < 1024 * 1024) return;
          blackholedAt = performance.now();
          transfer.addEventListener('retrying', (event) =>
            retries.push({ ...event.detail, at: performance.now() }),
          );
          proxy.blackholeOpen();
        },
      },
    );
    assert.equal(outcome.type, 'success', outcome.error?.message);
    assert.ok(blackholedAt > 0, 'the connection was black-holed mid-upload');
    assert.ok(proxy.swallowed > 0, 'and traffic went into the black hole');
    const first = retries[0];
    assert.ok(first, 'the client reconnected');
    assert.equal(first.cause, 'timeout');
    const noticed = first.at - blackholedAt;
    const bound = silenceBound(ALIVE);
    assert.ok(
      noticed < bound + TIMER_SLACK,
      `noticed after ${noticed.toFixed(0)} ms: within the ${bound} ms bound (+ timer slack), not the ${ANSWER_TIMEOUT} ms answer timeout`,
    );
    assert.equal(retries.length, 1, 'one reconnection: the resume took the upload over at once (no 409)');
    assert.equal(proxy.connections, 2);
    assert.equal(sha256(await readStored(env.dir, 'silent.bin')), sha256(data));
    assert.deepEqual(await storedFiles(env.dir), ['silent.bin']);
  });

  it('a quiet but live connection is not taken for dead: a FIN commit that takes 3 × the bound', async () => {
    const store = new CommitHookStore(await tempDir());
    cleanups.push(() => rm(store.inner.dir, { recursive: true, force: true }));
    const env = await startServer({ store, dir: store.inner.dir, aliveInterval: ALIVE });
    cleanups.push(() => env.stop());
    const slow = gate();
    store.beforeCommit = () => slow.wait();
    void slow.reached.then(() => setTimeout(slow.open, 3 * silenceBound(ALIVE)));
    const data = bytes(256 * 1024 + 3, 32);
    const retries: RetryingDetail[] = [];
    let watching = false;
    const outcome = await runTransfer(
      { url: env.url, file: fileOf(data, 'slow.bin'), v2ChunkSize: 64 * 1024, answerTimeout: ANSWER_TIMEOUT },
      {
        timeout: 60_000,
        onProgress: (_detail, transfer) => {
          if (watching) return;
          watching = true;
          transfer.addEventListener('retrying', (event) => retries.push(event.detail));
        },
      },
    );
    assert.equal(outcome.type, 'success', outcome.error?.message);
    assert.deepEqual(retries, [], 'no reconnection: the keep-alive messages said the server was there');
    assert.equal(store.commits, 1);
    assert.equal(sha256(await readStored(store.inner.dir, 'slow.bin')), sha256(data));
  });
});
