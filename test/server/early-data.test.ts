// Early data (docs/protocol.md §3.9) at the reference server, from a scripted client over real sockets: bytes
// (and FIN) sent right after a STOR, before its answer, are the upload's first chunks when the STOR is
// accepted at offset 0, and are dropped — exactly them — when it is refused with the connection kept open or
// answered with another offset. Stored files are compared by SHA-256 with what was meant.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, Peer, readStored, sha256, startServer, storedFiles } from './peer.ts';

const KiB = 1024;
const CHUNK = 64 * KiB;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server() {
  const started = await startServer();
  cleanups.push(() => started.stop());
  return started;
}

async function connect(url: string) {
  const peer = await Peer.connect(url);
  cleanups.push(() => peer.close());
  return peer;
}

/** A v2 STOR with binary frames, no checksum, FIN; `early` bytes follow it (absent: not offered). */
function stor(name: string, size: number, ext: { early?: number; resume?: string | null } = {}) {
  const offer = { binary: true, window: 16, chunk: CHUNK, resume: null, checksum: [], fin: true, ...ext };
  const command = { filename: name, size, type: 'binary', parameters: [], v: 2, ext: offer };
  return `STOR: ${JSON.stringify(command)}`;
}

function sendChunks(peer: Peer, data: Buffer, from = 0): number {
  let frames = 0;
  for (let at = from; at < data.length; at += CHUNK, frames++)
    peer.socket.send(data.subarray(at, at + CHUNK));
  return frames;
}

/** Reads `count` DATA acks; returns the last offset. */
async function acks(peer: Peer, count: number): Promise<number> {
  let offset = -1;
  for (let i = 0; i < count; i++) {
    const ack = await peer.next();
    assert.equal(ack.type, 'DATA', JSON.stringify(ack));
    assert.equal(ack.code, 200, JSON.stringify(ack));
    offset = ack.offset as number;
  }
  return offset;
}

describe('early data', () => {
  it('is granted only to a STOR that offers it, so an older v2 client is answered as before', async () => {
    const { url } = await server();
    const peer = await connect(url);
    const offered = await peer.ask(stor('a.bin', 0, { early: 0 }));
    assert.equal((offered.ext as Record<string, unknown>).early, true);
    assert.equal((await peer.ask('FIN: {"size":0}')).code, 200);
    const older = await peer.ask(stor('b.bin', 0));
    assert.equal(older.code, 200);
    assert.equal((older.ext as Record<string, unknown>).early, undefined);
    assert.equal((await peer.ask('FIN: {"size":0}')).code, 200);
  });

  it('taken at offset 0: STOR, the whole file and FIN sent at once store the file', async () => {
    const { url, dir } = await server();
    const peer = await connect(url);
    const data = bytes(5 * CHUNK + 123, 7);
    peer.socket.send(stor('whole.bin', data.length, { early: data.length }));
    const frames = sendChunks(peer, data);
    peer.socket.send(`FIN: {"size":${data.length}}`);
    const answer = await peer.next();
    assert.equal(answer.code, 200);
    assert.equal(answer.offset, 0);
    assert.equal(await acks(peer, frames), data.length);
    const fin = await peer.next();
    assert.equal(fin.type, 'FIN');
    assert.equal(fin.code, 200, JSON.stringify(fin));
    assert.equal(sha256(await readStored(dir, 'whole.bin')), sha256(data));
  });

  it('after a refusal that keeps the connection open (unknown resume id): dropped with its FIN, silently', async () => {
    const { url, dir } = await server();
    const peer = await connect(url);
    const junk = bytes(3 * CHUNK, 99);
    peer.socket.send(stor('x.bin', junk.length, { early: junk.length, resume: 'u_unknown' }));
    sendChunks(peer, junk);
    peer.socket.send(`FIN: {"size":${junk.length}}`);
    // The next upload on the same connection is read as usual, right after the dropped frames.
    const data = bytes(2 * CHUNK + 5, 3);
    peer.socket.send(stor('next.bin', data.length, { early: 0 }));
    const refused = await peer.next();
    assert.equal(refused.type, 'STOR');
    assert.equal(refused.code, 404);
    const accepted = await peer.next();
    assert.equal(accepted.type, 'STOR', `nothing answered the dropped frames: ${JSON.stringify(accepted)}`);
    assert.equal(accepted.code, 200);
    const frames = sendChunks(peer, data);
    assert.equal(await acks(peer, frames), data.length);
    assert.equal((await peer.ask(`FIN: {"size":${data.length}}`)).code, 200);
    assert.deepEqual(await storedFiles(dir), ['next.bin']);
    assert.equal(sha256(await readStored(dir, 'next.bin')), sha256(data));
  });

  it('answered with another offset (a resume): exactly the announced bytes are dropped, the rest is read', async () => {
    const { url, dir } = await server();
    const data = bytes(6 * CHUNK, 11);
    const first = await connect(url);
    const started = await first.ask(stor('resumed.bin', data.length, { early: 0 }));
    const id = started.id as string;
    sendChunks(first, data.subarray(0, 2 * CHUNK));
    assert.equal(await acks(first, 2), 2 * CHUNK);
    first.close();
    await first.waitClose();
    const second = await connect(url);
    // Early data that is not the file's bytes at all: stored, it would show in the SHA-256.
    const wrong = Buffer.alloc(3 * CHUNK, 0xee);
    let answer: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 20 && answer?.code !== 200; attempt++) {
      // The first connection's close may not be handled yet: 409 until it is (bounded).
      second.socket.send(stor('resumed.bin', data.length, { early: wrong.length, resume: id }));
      sendChunks(second, wrong);
      answer = await second.next();
      if (answer.code !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(answer?.code, 200, JSON.stringify(answer));
    assert.equal(answer?.offset, 2 * CHUNK);
    const frames = sendChunks(second, data, 2 * CHUNK);
    assert.equal(await acks(second, frames), data.length);
    assert.equal((await second.ask(`FIN: {"size":${data.length}}`)).code, 200);
    assert.equal(sha256(await readStored(dir, 'resumed.bin')), sha256(data));
  });

  it('running past the bytes the STOR announced is refused with 400', async () => {
    const { url } = await server();
    const peer = await connect(url);
    peer.socket.send(stor('x.bin', 4 * CHUNK, { early: CHUNK, resume: 'u_unknown' }));
    peer.socket.send(Buffer.alloc(2 * CHUNK, 1));
    assert.equal((await peer.next()).code, 404);
    const refusal = await peer.next();
    assert.equal(refusal.code, 400);
    assert.match(String(refusal.message), /early/);
  });
});
