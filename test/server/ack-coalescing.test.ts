// Acks that cover several chunks (`coalesce`, docs/protocol.md §3.10), counted on real sockets against the
// reference server: a peer that offers it gets fewer acks than chunks, each at a chunk's end and the last at
// the file's end; one that does not (today's v2 peers) gets one ack per chunk, as before; the real browser
// core, run in Node, uploads with it and the stored bytes are the file's.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import type { WebSocketConstructor } from '../../src/core/index.ts';
import { AckCoalescer } from '../../src/server/ack-coalescer.ts';
import { formatStor, type Answer } from '../../src/protocol/index.ts';
import { runTransfer } from '../helpers/node-client.ts';
import { bytes, Peer, readStored, sha256, startServer } from './peer.ts';

const MiB = 1024 * 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** STOR for a v2 upload of `size` bytes in 1 MiB binary chunks, window 16, FIN; `coalesce` when given. */
function stor(size: number, coalesce?: number): string {
  const ext = { binary: true, window: 16, chunk: MiB, resume: null, checksum: [], fin: true };
  return formatStor({
    filename: 'acks.bin',
    size,
    type: 'binary',
    parameters: [],
    v: 2,
    ext: coalesce === undefined ? ext : { ...ext, coalesce },
  });
}

/** Sends `data` in 1 MiB chunks all at once, then FIN; returns the DATA acks and the FIN answer. */
async function upload(peer: Peer, data: Buffer): Promise<{ acks: Answer[]; fin: Answer }> {
  for (let at = 0; at < data.length; at += MiB) peer.socket.send(data.subarray(at, at + MiB));
  peer.socket.send(`FIN: ${JSON.stringify({ size: data.length })}`);
  const acks: Answer[] = [];
  // Bounded: at most one answer per chunk, then FIN's.
  for (let answers = 0; answers <= Math.ceil(data.length / MiB); answers++) {
    const answer = (await peer.next()) as unknown as Answer;
    if (answer.type === 'FIN') return { acks, fin: answer };
    acks.push(answer);
  }
  throw new Error('No FIN answer after one answer per chunk.');
}

describe('acks that cover several chunks (coalesce)', () => {
  it('grants a peer that offers it at most its offer, and acks it less often than once per chunk', async () => {
    const started = await startServer();
    cleanups.push(() => started.stop());
    const data = bytes(12 * MiB + 5, 3);
    const peer = await Peer.connect(started.url);
    cleanups.push(() => peer.close());
    const answer = await peer.ask(stor(data.length, 4 * MiB));
    assert.equal((answer.ext as { coalesce?: number }).coalesce, 4 * MiB);
    const { acks, fin } = await upload(peer, data);
    assert.equal(fin.code, 200, String(fin.message));
    const chunks = Math.ceil(data.length / MiB);
    assert.ok(acks.length < chunks, `${acks.length} acks for ${chunks} chunks`);
    // Each ack ends on a chunk's end and covers at most the granted bytes; they add up to the file.
    let offset = 0;
    for (const ack of acks) {
      assert.equal(ack.code, 200);
      assert.equal(ack.offset, offset + ack.bytesRead!);
      assert.ok(ack.offset! % MiB === 0 || ack.offset === data.length, `ack at ${ack.offset}`);
      assert.ok(ack.bytesRead! <= 4 * MiB + MiB);
      offset = ack.offset!;
    }
    assert.equal(offset, data.length);
    assert.equal(sha256(await readStored(started.dir, 'acks.bin')), sha256(data));
  });

  it('acks a peer that does not offer it once per chunk, as before', async () => {
    const started = await startServer();
    cleanups.push(() => started.stop());
    const data = bytes(6 * MiB + 1, 4);
    const peer = await Peer.connect(started.url);
    cleanups.push(() => peer.close());
    const answer = await peer.ask(stor(data.length));
    assert.equal('coalesce' in (answer.ext as object), false);
    const { acks, fin } = await upload(peer, data);
    assert.equal(fin.code, 200, String(fin.message));
    assert.deepEqual(
      acks.map((ack) => ack.offset),
      [1, 2, 3, 4, 5, 6].map((n) => n * MiB).concat(data.length),
    );
  });

  it('acks what is held once the sender stops, without waiting for the granted bytes', async () => {
    const started = await startServer();
    cleanups.push(() => started.stop());
    const peer = await Peer.connect(started.url);
    cleanups.push(() => peer.close());
    await peer.ask(stor(8 * MiB, 4 * MiB));
    peer.socket.send(bytes(MiB, 5));
    // One chunk of four held: its ack still comes (after ACK_DELAY), within the peer's answer timeout.
    const ack = await peer.next();
    assert.deepEqual([ack.type, ack.offset, ack.bytesRead], ['DATA', MiB, MiB]);
  });

  it('carries the real core client through an upload with fewer acks than chunks, bytes intact', async () => {
    const started = await startServer();
    cleanups.push(() => started.stop());
    const data = bytes(9 * MiB + 777, 6);
    const acks: Answer[] = [];
    class AckCounting extends WebSocket {
      constructor(url: string) {
        super(url);
        this.on('message', (message, isBinary) => {
          const answer = isBinary ? null : (JSON.parse(message.toString()) as Answer);
          if (answer?.type === 'DATA') acks.push(answer);
        });
      }
    }
    const outcome = await runTransfer({
      url: started.url,
      file: new File([new Uint8Array(data)], 'core.bin'),
      WebSocket: AckCounting as unknown as WebSocketConstructor,
    });
    assert.equal(outcome.type, 'success', outcome.error?.message);
    assert.ok(acks.length > 0 && acks.length < Math.ceil(data.length / MiB), `${acks.length} acks`);
    assert.equal(acks.at(-1)?.offset, data.length);
    assert.equal(outcome.detail?.loaded, data.length);
    assert.equal(sha256(await readStored(started.dir, 'core.bin')), sha256(data));
  });
});

describe('AckCoalescer', () => {
  const ack = (offset: number, bytesRead = MiB): Answer => ({ type: 'DATA', code: 200, bytesRead, offset });

  it('holds plain acks until they cover the agreed bytes, then sends one for all of them', () => {
    const sent: Answer[] = [];
    const acks = new AckCoalescer((answer) => sent.push(answer));
    cleanups.push(() => acks.drop());
    acks.agree(3 * MiB);
    acks.acknowledge(ack(MiB), false);
    acks.acknowledge(ack(2 * MiB), false);
    assert.deepEqual(sent, []);
    acks.acknowledge(ack(3 * MiB), false);
    assert.deepEqual(sent, [ack(3 * MiB, 3 * MiB)]);
  });

  it('sends what is held first, then an ack with more than the offset, the last one, or any other answer', () => {
    const sent: Answer[] = [];
    const acks = new AckCoalescer((answer) => sent.push(answer));
    cleanups.push(() => acks.drop());
    acks.agree(4 * MiB);
    acks.acknowledge(ack(MiB), false);
    const resend = { ...ack(2 * MiB), resend: [0] };
    acks.acknowledge(resend, false);
    acks.acknowledge(ack(3 * MiB), false);
    acks.acknowledge(ack(3 * MiB + 10, 10), true);
    acks.acknowledge(ack(4 * MiB), false);
    acks.flush();
    assert.deepEqual(sent, [ack(MiB), resend, ack(3 * MiB), ack(3 * MiB + 10, 10), ack(4 * MiB)]);
  });

  it('sends every ack at once when nothing was agreed, and nothing after drop()', () => {
    const sent: Answer[] = [];
    const acks = new AckCoalescer((answer) => sent.push(answer));
    acks.agree(0);
    acks.acknowledge(ack(MiB), false);
    acks.agree(4 * MiB);
    acks.acknowledge(ack(2 * MiB), false);
    acks.drop();
    acks.flush();
    assert.deepEqual(sent, [ack(MiB)]);
  });
});
