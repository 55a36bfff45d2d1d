// The compatibility matrix of docs/protocol.md, each cell a real conversation over real sockets:
// new client × strict 2012 server, 2012 client × new server, new client × new server.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { StrictV1Server } from '../helpers/strict-v1-server.ts';
import { countingWebSocket, runTransfer } from '../helpers/node-client.ts';
import { WebSocketFileTransfer } from '../../src/core/index.ts';
import {
  bytes,
  eventually,
  partialFiles,
  Peer,
  readStored,
  startServer,
  storedFiles,
} from '../server/peer.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('compatibility matrix', () => {
  describe('new client × strict 2012 server', () => {
    it('falls back to exact v1: base64 frames of at most 64 KiB, one per answer, no FIN, success after the last answer', async () => {
      const server = await StrictV1Server.start();
      cleanups.push(() => server.close());
      const data = bytes(300_000, 11);
      const outcome = await runTransfer({
        url: server.url,
        file: new File([new Uint8Array(data)], 'old.bin'),
      });
      assert.equal(outcome.type, 'success', outcome.error?.message);
      const upload = server.uploads[0]!;
      assert.deepEqual(upload.violations, []);
      assert.deepEqual(server.received(), data);
      assert.equal(upload.stor?.type, 'base64', 'type stays the declared fallback');
      assert.equal(upload.stor?.v, 2, 'the offer rides inside STOR, which the 2012 server ignores');
      assert.ok(upload.frames.slice(1).every((f) => !f.binary && f.length <= 64 * 1024));
      assert.deepEqual(
        outcome.counter.textFrames.map((t) => t.slice(0, 4)),
        ['STOR'],
        'nothing a v1 server does not know',
      );
      // Progress counts the bytes sent, not the 2012 server's bytesRead (a character count).
      assert.equal(outcome.detail?.loaded, data.length);
    });

    it('sends a folder path as one more STOR field, which the 2012 server ignores: the upload is exact v1', async () => {
      const server = await StrictV1Server.start();
      cleanups.push(() => server.close());
      const data = bytes(70_000, 13);
      const outcome = await runTransfer({
        url: server.url,
        file: new File([new Uint8Array(data)], 'in-folder.bin'),
        path: 'album/2024',
      });
      assert.equal(outcome.type, 'success', outcome.error?.message);
      const upload = server.uploads[0]!;
      assert.deepEqual(upload.violations, []);
      assert.deepEqual(server.received(), data);
      assert.equal((upload.stor as { path?: string } | undefined)?.path, 'album/2024');
      assert.ok(!outcome.counter.textFrames[0]!.includes('\n'), 'STOR stays on one line');
    });

    it('does not hang on AUTH-less 2012 servers when no credentials are given, and uploads an empty file', async () => {
      const server = await StrictV1Server.start();
      cleanups.push(() => server.close());
      const outcome = await runTransfer({ url: server.url, file: new File([], 'empty.bin') });
      assert.equal(outcome.type, 'success', outcome.error?.message);
      assert.equal(server.uploads[0]!.frames.length, 1);
    });
  });

  describe('2012 client × new server', () => {
    it('answers exactly {type, code, bytesRead} per chunk, AUTH with 200, and commits before the last answer', async () => {
      const started = await startServer();
      cleanups.push(() => started.stop());
      const peer = await Peer.connect(started.url);
      cleanups.push(() => peer.close());
      const data = bytes(5000, 12);
      const auth = await peer.ask('AUTH: {"login":"a","password":"b"}');
      assert.deepEqual(Object.keys(auth), ['type', 'code', 'message']);
      assert.equal(auth.code, 200);
      const stor = await peer.ask(
        `STOR: ${JSON.stringify({ filename: 'old.bin', size: data.length, type: 'base64', parameters: [] })}`,
      );
      assert.deepEqual(stor, { type: 'STOR', code: 200, message: 'Upload initialized. Wait for data' });
      for (let at = 0; at < data.length; at += 1024) {
        const piece = data.subarray(at, at + 1024);
        const answer = await peer.ask(piece.toString('base64'));
        assert.deepEqual(answer, { type: 'DATA', code: 200, bytesRead: piece.length });
        const last = at + 1024 >= data.length;
        // Checked when the answer is in hand: the last answer comes only once the file is in place.
        assert.equal(existsSync(path.join(started.dir, 'old.bin')), last);
      }
      assert.deepEqual(await readStored(started.dir, 'old.bin'), data);
      assert.deepEqual(await partialFiles(started.dir), []);
    });
  });

  describe('new client × new server', () => {
    it('negotiates v2: binary frames, pipelining, FIN with a SHA-256 equal to the stored file', async () => {
      const started = await startServer();
      cleanups.push(() => started.stop());
      const data = bytes(5 * 1024 * 1024 + 123, 13);
      let landedAtSuccess: boolean | undefined;
      const outcome = await runTransfer(
        {
          url: started.url,
          file: new File([new Uint8Array(data)], 'new.bin'),
          v2ChunkSize: 256 * 1024,
          window: 8,
        },
        { onSuccess: () => (landedAtSuccess = existsSync(path.join(started.dir, 'new.bin'))) },
      );
      assert.equal(outcome.type, 'success', outcome.error?.message);
      assert.equal(landedAtSuccess, true, 'success is reported only once the file is in its final place');
      const fin = outcome.counter.textFrames.find((t) => t.startsWith('FIN'))!;
      const digest = createHash('sha256').update(data).digest('base64');
      // sha256-blocks (4 MiB blocks): the content hash over the block digests, docs/protocol.md §3.7.
      const blockDigests = [0, 1].map((i) =>
        createHash('sha256')
          .update(data.subarray(i * 4 * 1024 * 1024, (i + 1) * 4 * 1024 * 1024))
          .digest(),
      );
      const contentHash = createHash('sha256').update(Buffer.concat(blockDigests)).digest('base64');
      assert.equal(JSON.parse(fin.slice(4)).checksum, `sha256-blocks:${contentHash}`);
      const stored = await readStored(started.dir, 'new.bin');
      assert.equal(createHash('sha256').update(stored).digest('base64'), digest);
      assert.equal(outcome.counter.binaryFrames, Math.ceil(data.length / (256 * 1024)));
      assert.deepEqual(await storedFiles(started.dir), ['new.bin']);
      // Progress keeps sent and acknowledged apart: with a window, some progress saw sent ahead of loaded.
      assert.ok(outcome.progress.some((p) => p.sent > p.loaded));
      assert.ok(outcome.progress.every((p) => p.sent >= p.loaded));
    });

    it('uploads an empty file with FIN and succeeds only once it is in place', async () => {
      const started = await startServer();
      cleanups.push(() => started.stop());
      let landedAtSuccess: boolean | undefined;
      const outcome = await runTransfer(
        { url: started.url, file: new File([], 'empty.bin') },
        { onSuccess: () => (landedAtSuccess = existsSync(path.join(started.dir, 'empty.bin'))) },
      );
      assert.equal(outcome.type, 'success', outcome.error?.message);
      assert.equal(landedAtSuccess, true);
      assert.deepEqual(
        outcome.counter.textFrames.map((t) => t.slice(0, 4)),
        ['STOR', 'FIN:'],
      );
    });

    it('abort() sends ABOR and the server deletes the partial upload', async () => {
      const started = await startServer();
      cleanups.push(() => started.stop());
      // Larger than the initial credit (8 MiB): the abort comes before the whole file, and its FIN, went out.
      const data = bytes(16 * 1024 * 1024, 14);
      const counter = { dataBytes: 0, textFrames: [] as string[], binaryFrames: 0 };
      const transfer = new WebSocketFileTransfer({
        url: started.url,
        file: new File([new Uint8Array(data)], 'gone.bin'),
        v2ChunkSize: 64 * 1024,
        resumeStore: null,
        WebSocket: countingWebSocket(counter),
      });
      const aborted = new Promise<void>((resolve) => transfer.addEventListener('abort', () => resolve()));
      transfer.addEventListener('progress', () => transfer.abort());
      transfer.start();
      await aborted;
      assert.ok(counter.textFrames.some((t) => t.startsWith('ABOR')));
      await eventually(async () => (await partialFiles(started.dir)).length === 0, 'the partial deleted');
      assert.deepEqual(await storedFiles(started.dir), []);
    });
  });
});
