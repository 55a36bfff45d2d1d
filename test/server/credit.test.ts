// Flow control in bytes (docs/protocol.md §3.2): the real client core (in Node, over ws) against a scripted
// server that counts the bytes in flight, grants a byte credit and changes it in its acks; and the reference
// server's budget, shared by its uploads, over real sockets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { parseCommand, formatAnswer } from '../../src/protocol/index.ts';
import { runTransfer } from '../helpers/node-client.ts';
import { bytes, Peer, sha256, startServer } from './peer.ts';

const KiB = 1024;
const CHUNK = 16 * KiB;
/** How long the counting server holds its acks once the credit is full (not a timing assertion: a probe). */
const HOLD_MS = 40;

/**
 * A v2 server that holds every ack until the client has exactly the credit in flight (or sent the whole
 * file), then acks everything at once, the first ack carrying the next credit of `credits`. Every arrival is
 * checked against the credit the client could know: the bytes received and not acked may never exceed it.
 */
async function countingServer(credits: number[]) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const seen = { maxInFlight: new Map<number, number>(), excess: [] as string[], received: [] as Buffer[] };
  wss.on('connection', (socket: ServerSocket) => {
    let size = 0;
    let received = 0;
    let acked = 0;
    let round = 0;
    // A larger credit takes effect with the first ack of a batch, a smaller one only once the client saw it:
    // until the batch is out, the previous round's credit bounds what may arrive.
    let bound = credits[0]!;
    const held: number[] = [];
    const credit = () => credits[round % credits.length]!;
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        const parsed = parseCommand(data.toString());
        if (!parsed.ok) return socket.close(1002);
        const command = parsed.value;
        if (command.command === 'STOR') {
          size = command.size;
          const ext = { binary: true, window: 16, maxChunk: CHUNK, checksum: null, fin: true, expires: '' };
          const answer = { type: 'STOR', code: 200, v: 2, id: 'u_count', offset: 0 } as const;
          socket.send(formatAnswer({ ...answer, ext: { ...ext, credit: credit() } }));
        } else if (command.command === 'FIN') {
          socket.send(formatAnswer({ type: 'FIN', code: 200, id: 'u_count', size, filename: 'f' }));
        }
        return;
      }
      seen.received.push(Buffer.from(data));
      received += data.byteLength;
      held.push(data.byteLength);
      const inFlight = received - acked;
      if (inFlight > bound) seen.excess.push(`${inFlight} bytes in flight under a credit of ${bound}`);
      seen.maxInFlight.set(round, Math.max(seen.maxInFlight.get(round) ?? 0, inFlight));
      if (inFlight < credit() && received < size) return;
      // Held a moment with the credit full: a client that does not keep to it sends more meanwhile.
      setTimeout(() => {
        round += 1;
        const next = credit();
        bound = next;
        for (const [index, length] of held.splice(0).entries()) {
          acked += length;
          const ack = { type: 'DATA' as const, code: 200, bytesRead: length, offset: acked };
          socket.send(formatAnswer(index === 0 ? { ...ack, credit: next } : ack));
        }
      }, HOLD_MS);
    });
  });
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}/upload`,
    seen,
    stop: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}

describe('byte credit', () => {
  it('fills the credit as granted, grows and shrinks with the acks, and never exceeds it', async () => {
    const credits = [64 * KiB, 128 * KiB, 32 * KiB, 256 * KiB, 48 * KiB];
    const server = await countingServer(credits);
    try {
      const data = bytes(2 * 1024 * KiB, 7);
      const outcome = await runTransfer({
        url: server.url,
        file: new File([new Uint8Array(data)], 'credit.bin'),
        v2ChunkSize: CHUNK,
        window: 16,
        checksum: false,
      });
      assert.equal(outcome.type, 'success', outcome.error?.message);
      assert.deepEqual(server.seen.excess, []);
      assert.equal(sha256(Buffer.concat(server.seen.received)), sha256(data));
      // Every full round had exactly its credit in flight: the client used what it was granted, no less.
      const rounds = [...server.seen.maxInFlight.entries()].slice(0, -1);
      assert.ok(rounds.length >= credits.length, `only ${rounds.length} rounds`);
      for (const [round, inFlight] of rounds) assert.equal(inFlight, credits[round % credits.length]);
    } finally {
      await server.stop();
    }
  });
});

describe('the reference server’s credit budget', () => {
  const stor = (name: string, size: number) =>
    `STOR: ${JSON.stringify({
      filename: name,
      size,
      type: 'binary',
      parameters: [],
      v: 2,
      ext: { binary: true, window: 16, chunk: CHUNK, checksum: [], fin: true, credit: true },
    })}`;

  it('shares the budget between uploads: a credit shrinks when another starts and grows back after', async () => {
    const mib = 1024 * KiB;
    const server = await startServer({ maxCredit: 4 * mib, creditBudget: 4 * mib });
    const first = await Peer.connect(server.url);
    const second = await Peer.connect(server.url);
    try {
      const started = await first.ask(stor('a.bin', 3 * CHUNK));
      assert.equal((started.ext as { credit: number }).credit, 4 * mib);
      const joined = await second.ask(stor('b.bin', 2 * CHUNK));
      assert.equal((joined.ext as { credit: number }).credit, 2 * mib);
      // The first upload learns its smaller share with its next ack.
      const shrunk = await first.ask(bytes(CHUNK, 1));
      assert.equal(shrunk.credit, 2 * mib);
      const same = await first.ask(bytes(CHUNK, 2));
      assert.equal('credit' in same, false, 'an unchanged credit is not repeated');
      assert.equal((await second.ask('ABOR: {}')).code, 200);
      const grown = await first.ask(bytes(CHUNK, 3));
      assert.equal(grown.credit, 4 * mib);
      const fin = await first.ask(`FIN: ${JSON.stringify({ size: 3 * CHUNK })}`);
      assert.equal(fin.code, 200);
    } finally {
      first.close();
      second.close();
      await server.stop();
    }
  });

  it('grants no credit to a client that does not offer one (today’s v2 clients count chunks)', async () => {
    const server = await startServer();
    const peer = await Peer.connect(server.url);
    try {
      const offer = { binary: true, window: 4, chunk: CHUNK, checksum: [], fin: true };
      const answer = await peer.ask(
        `STOR: ${JSON.stringify({ filename: 'x', size: 1, type: 'binary', parameters: [], v: 2, ext: offer })}`,
      );
      const ext = answer.ext as Record<string, unknown>;
      assert.equal(ext.window, 4);
      assert.equal('credit' in ext, false);
      assert.equal('reuse' in ext, false);
      const ack = await peer.ask(Buffer.from([1]));
      assert.equal('credit' in ack, false);
    } finally {
      peer.close();
      await server.stop();
    }
  });

  it('stores what a real client sent under the default credit, byte for byte', async () => {
    const server = await startServer();
    try {
      const data = bytes(3 * 1024 * KiB + 5, 3);
      const outcome = await runTransfer({
        url: server.url,
        file: new File([new Uint8Array(data)], 'big.bin'),
      });
      assert.equal(outcome.type, 'success', outcome.error?.message);
      const stored = await import('node:fs/promises').then((fs) => fs.readFile(`${server.dir}/big.bin`));
      assert.equal(createHash('sha256').update(stored).digest('hex'), sha256(data));
    } finally {
      await server.stop();
    }
  });
});
