// Block integrity (`sha256-blocks`) on the real server over real sockets: blocks checked as they complete,
// a damaged block asked for again and written in place, one that stays damaged ending the upload with
// nothing committed, FIN only after every block is verified, and a resume continuing at a verified block.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { eventually, bytes, partialFiles, Peer, readStored, startServer, storedFiles } from './peer.ts';

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

const BLOCK = 64 * 1024;
const CHUNK = 16 * 1024;
const hash = (data: Uint8Array) => createHash('sha256').update(data).digest();

function stor(name: string, size: number, ext: Record<string, unknown> = {}): string {
  const offer = {
    binary: true,
    window: 64,
    chunk: CHUNK,
    resume: null,
    checksum: ['sha256-blocks'],
    block: BLOCK,
  };
  return `STOR: ${JSON.stringify({
    filename: name,
    size,
    type: 'binary',
    parameters: [],
    v: 2,
    ext: { ...offer, fin: true, ...ext },
  })}`;
}

function blockOf(data: Buffer, index: number): Buffer {
  return data.subarray(index * BLOCK, Math.min((index + 1) * BLOCK, data.length));
}

const sum = (data: Buffer, index: number) =>
  `SUM: ${JSON.stringify({ block: index, sha256: hash(blockOf(data, index)).toString('base64') })}`;

/** The content hash as docs/protocol.md defines it: SHA-256 over the block digests in order. */
function contentHash(data: Buffer): string {
  const digests = [];
  for (let i = 0; i * BLOCK < data.length; i++) digests.push(hash(blockOf(data, i)));
  return `sha256-blocks:${hash(Buffer.concat(digests)).toString('base64')}`;
}

/**
 * Sends blocks [from, to) as the client does (SUM, then the block's chunks), with `wire` giving the bytes
 * that actually travel; returns the acks.
 */
async function sendBlocks(peer: Peer, data: Buffer, from: number, to: number, wire = data) {
  let count = 0;
  for (let index = from; index < to; index++) {
    peer.socket.send(sum(data, index));
    const end = Math.min((index + 1) * BLOCK, data.length);
    for (let at = index * BLOCK; at < end; at += CHUNK) {
      peer.socket.send(wire.subarray(at, Math.min(at + CHUNK, end)));
      count++;
    }
  }
  const acks = [];
  for (let i = 0; i < count; i++) acks.push(await peer.next());
  return acks;
}

/** BLK, then the block's bytes again; returns the BLK answer. */
async function resendBlock(peer: Peer, bytesOfBlock: Buffer, index: number) {
  peer.socket.send(`BLK: ${JSON.stringify({ block: index })}`);
  for (let at = 0; at < bytesOfBlock.length; at += CHUNK)
    peer.socket.send(bytesOfBlock.subarray(at, at + CHUNK));
  return peer.next();
}

/** Resumes `id` on a new connection, again while the old connection's close is still being handled (409). */
async function resume(id: string, size: number) {
  let resumed: Record<string, unknown> = { code: 409 };
  let peer!: Peer;
  for (let i = 0; resumed.code === 409 && i < 40; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 50));
    peer = await connect(started!.url);
    resumed = await peer.ask(stor('r.bin', size, { resume: id }));
  }
  assert.equal(resumed.code, 200);
  return { peer, resumed };
}

const fin = (data: Buffer) => `FIN: ${JSON.stringify({ size: data.length, checksum: contentHash(data) })}`;
const blocksOf = (data: Buffer) => Math.ceil(data.length / BLOCK);

describe('block integrity (sha256-blocks)', () => {
  it('grants sha256-blocks with the offered block size, checks every block and reports both hashes', async () => {
    started = await startServer();
    const data = bytes(3 * BLOCK + 5000, 3);
    const peer = await connect(started.url);
    const answer = await peer.ask(stor('b.bin', data.length));
    assert.equal(answer.code, 200);
    assert.deepEqual(
      [(answer.ext as { checksum: string }).checksum, (answer.ext as { block: number }).block],
      ['sha256-blocks', BLOCK],
    );
    const acks = await sendBlocks(peer, data, 0, blocksOf(data));
    assert.ok(acks.every((ack) => ack.code === 200 && ack.resend === undefined));
    const done = await peer.ask(fin(data));
    assert.equal(done.code, 200);
    assert.equal(done.checksum, `sha256:${hash(data).toString('base64')}`);
    assert.equal(done.contentHash, contentHash(data));
    assert.deepEqual(await readStored(started.dir, 'b.bin'), data);
  });

  it('asks for a damaged block only, writes it again in place, and stores the file intact', async () => {
    started = await startServer();
    const data = bytes(4 * BLOCK, 4);
    const wire = Buffer.from(data);
    wire[BLOCK + 1234] ^= 0x01; // block 1 damaged on the way
    const peer = await connect(started.url);
    await peer.ask(stor('d.bin', data.length));
    const acks = await sendBlocks(peer, data, 0, blocksOf(data), wire);
    const asked = acks.filter((ack) => ack.resend !== undefined);
    assert.deepEqual(
      asked.map((ack) => ack.resend),
      [[1]],
    );
    assert.equal(asked[0]!.offset, 2 * BLOCK, "asked for with the ack of the block's last chunk");
    const again = await resendBlock(peer, blockOf(data, 1), 1);
    assert.deepEqual([again.type, again.code, again.block, again.verified], ['BLK', 200, 1, true]);
    const done = await peer.ask(fin(data));
    assert.equal(done.code, 200);
    // The whole-file SHA-256 is of the stored bytes, not of the damaged ones the running hash saw first.
    assert.equal(done.checksum, `sha256:${hash(data).toString('base64')}`);
    assert.deepEqual(await readStored(started.dir, 'd.bin'), data);
  });

  it('refuses FIN while a damaged block was not sent again, and keeps the upload', async () => {
    started = await startServer();
    const data = bytes(2 * BLOCK, 5);
    const wire = Buffer.from(data);
    wire[10] ^= 0x80;
    const peer = await connect(started.url);
    await peer.ask(stor('f.bin', data.length));
    await sendBlocks(peer, data, 0, 2, wire);
    const early = await peer.ask(fin(data));
    assert.equal(early.code, 400);
    assert.match(String(early.message), /every block/);
    assert.deepEqual(await storedFiles(started.dir), []);
  });

  it('fails a block that stays damaged with 422 and commits nothing', async () => {
    started = await startServer();
    const data = bytes(3 * BLOCK, 6);
    const wire = Buffer.from(data);
    wire[2 * BLOCK + 7] ^= 0x04;
    const peer = await connect(started.url);
    await peer.ask(stor('bad.bin', data.length));
    await sendBlocks(peer, data, 0, 3, wire);
    const damaged = blockOf(wire, 2);
    assert.deepEqual([(await resendBlock(peer, damaged, 2)).verified], [false]);
    const last = await resendBlock(peer, damaged, 2);
    assert.equal(last.code, 422);
    assert.match(String(last.message), /Block 2 arrived damaged 3 times/);
    await peer.waitClose();
    await eventually(async () => (await partialFiles(started!.dir)).length === 0, 'partial deleted');
    assert.deepEqual(await storedFiles(started.dir), []);
  });

  it('refuses a block whose SUM did not come first, a SUM ahead of its block, and a BLK nobody asked for', async () => {
    started = await startServer();
    const data = bytes(BLOCK, 7);
    const peer = await connect(started.url);
    await peer.ask(stor('n.bin', data.length));
    const refused = await peer.ask(data.subarray(0, CHUNK));
    assert.equal(refused.code, 400);
    assert.match(String(refused.message), /before its SUM/);
    const ahead = await connect(started.url);
    // 80 blocks: block 70 starts past the largest chunk (4 MiB) from here.
    await ahead.ask(stor('a.bin', 80 * BLOCK));
    const early = await ahead.ask(sum(bytes(80 * BLOCK, 7), 70));
    assert.equal(early.code, 400, 'a SUM comes right before the chunk its block starts in, not ahead');
    assert.match(String(early.message), /not awaited/);
    const other = await connect(started.url);
    await other.ask(stor('m.bin', data.length));
    const blk = await other.ask('BLK: {"block":0}');
    assert.equal(blk.code, 400);
    assert.match(String(blk.message), /not asked for/);
  });

  it('resumes inside the block in progress on the same server: its SUM and running hash are kept', async () => {
    started = await startServer();
    const data = bytes(3 * BLOCK + 100, 8);
    const first = await connect(started.url);
    const answer = await first.ask(stor('r.bin', data.length));
    await sendBlocks(first, data, 0, 1);
    // Block 1's SUM and its first chunk, then the connection drops.
    first.socket.send(sum(data, 1));
    first.socket.send(data.subarray(BLOCK, BLOCK + CHUNK));
    await first.next();
    first.close();
    await first.waitClose();
    const second = await resume(answer.id as string, data.length);
    assert.equal(second.resumed.offset, BLOCK + CHUNK);
    // The rest of block 1 without its SUM again, then the other blocks.
    for (let at = BLOCK + CHUNK; at < 2 * BLOCK; at += CHUNK)
      second.peer.socket.send(data.subarray(at, at + CHUNK));
    for (let i = 0; i < 3; i++) assert.equal((await second.peer.next()).resend, undefined);
    await sendBlocks(second.peer, data, 2, blocksOf(data));
    const done = await second.peer.ask(fin(data));
    assert.equal(done.code, 200);
    assert.equal(done.contentHash, contentHash(data));
    assert.deepEqual(await readStored(started.dir, 'r.bin'), data);
  });

  it('resumes at a damaged block not yet sent again: nothing past it counts, the file is stored intact', async () => {
    started = await startServer();
    const data = bytes(3 * BLOCK, 13);
    const wire = Buffer.from(data);
    wire[BLOCK + 3] ^= 0x10;
    const first = await connect(started.url);
    const answer = await first.ask(stor('g.bin', data.length));
    const acks = await sendBlocks(first, data, 0, 3, wire);
    assert.deepEqual(
      acks.filter((ack) => ack.resend).map((ack) => ack.resend),
      [[1]],
    );
    first.close();
    await first.waitClose();
    const second = await resume(answer.id as string, data.length);
    assert.equal(second.resumed.offset, BLOCK, 'continues at the damaged block');
    await sendBlocks(second.peer, data, 1, 3);
    assert.equal((await second.peer.ask(fin(data))).code, 200);
    assert.deepEqual(await readStored(started.dir, 'g.bin'), data);
  });

  // 1e82c70: at the size, indexOf(size) named the last block of a file whose size is not a multiple of the
  // block, and the resumed verifier forgot that block's verdict, so FIN was refused (400).
  it('takes FIN on a resume that finds the whole file verified, its size not a multiple of the block', async () => {
    started = await startServer();
    const data = bytes(2 * BLOCK + 777, 14);
    const first = await connect(started.url);
    const answer = await first.ask(stor('whole.bin', data.length));
    const acks = await sendBlocks(first, data, 0, blocksOf(data));
    assert.ok(acks.every((ack) => ack.code === 200 && ack.resend === undefined));
    // Every block verified; the connection drops before FIN.
    first.close();
    await first.waitClose();
    const second = await resume(answer.id as string, data.length);
    assert.equal(second.resumed.offset, data.length, 'the server holds the whole file');
    const done = await second.peer.ask(fin(data));
    assert.deepEqual([done.type, done.code], ['FIN', 200]);
    assert.equal(done.checksum, `sha256:${hash(data).toString('base64')}`);
    assert.equal(done.contentHash, contentHash(data));
    assert.deepEqual(await readStored(started.dir, 'whole.bin'), data);
  });

  it('takes that FIN after a server restart too, with the whole-file SHA-256 read back exactly', async () => {
    started = await startServer();
    const data = bytes(3 * BLOCK + 5, 15);
    const first = await connect(started.url);
    const answer = await first.ask(stor('restart.bin', data.length));
    await sendBlocks(first, data, 0, blocksOf(data));
    first.close();
    await first.waitClose();
    // Once the connection let go (its verified offset saved), a new server over the same folder.
    const record = path.join(started.dir, '.partial', `${answer.id as string}.json`);
    const saved = async () => JSON.parse(await readFile(record, 'utf8').catch(() => '{}')).verified;
    await eventually(async () => (await saved()) === data.length, 'the verified offset to be saved');
    const { dir } = started;
    await started.server.close();
    const restarted = await startServer({ dir });
    started = {
      ...restarted,
      dir,
      stop: () => restarted.stop().then(() => rm(dir, { recursive: true, force: true })),
    };
    const second = await resume(answer.id as string, data.length);
    assert.equal(second.resumed.offset, data.length);
    const done = await second.peer.ask(`FIN: ${JSON.stringify({ size: data.length })}`);
    assert.deepEqual([done.type, done.code], ['FIN', 200]);
    assert.equal(done.checksum, `sha256:${hash(data).toString('base64')}`);
    assert.deepEqual(await readStored(started.dir, 'restart.bin'), data);
  });

  it('still grants the whole-file sha256 to an older v2 client that offers only that', async () => {
    started = await startServer();
    const peer = await connect(started.url);
    const answer = await peer.ask(stor('o.bin', 10, { checksum: ['sha256'], block: undefined }));
    assert.equal((answer.ext as { checksum: string }).checksum, 'sha256');
    assert.equal((answer.ext as { block?: number }).block, undefined);
  });
});

describe('block integrity: FIN without the content hash', () => {
  it("takes FIN without it (a client resumed after a reload), and records the server's own", async () => {
    started = await startServer();
    const data = bytes(2 * BLOCK + 9, 10);
    const peer = await connect(started.url);
    await peer.ask(stor('nohash.bin', data.length));
    await sendBlocks(peer, data, 0, blocksOf(data));
    const done = await peer.ask(`FIN: ${JSON.stringify({ size: data.length })}`);
    assert.equal(done.code, 200);
    assert.equal(done.contentHash, contentHash(data));
    assert.deepEqual(await readStored(started.dir, 'nohash.bin'), data);
  });

  it('refuses a content hash that does not add up, and discards the upload', async () => {
    started = await startServer();
    const data = bytes(BLOCK, 11);
    const peer = await connect(started.url);
    await peer.ask(stor('wrong.bin', data.length));
    await sendBlocks(peer, data, 0, 1);
    const done = await peer.ask(fin(bytes(BLOCK, 12)));
    assert.equal(done.code, 422);
    await peer.waitClose();
    assert.deepEqual(await storedFiles(started.dir), []);
  });
});
