// Several nodes on one bucket (real Ceph RGW, real nginx, the real command per node), driven by scripted
// protocol v2 clients: two clients resuming one upload at once on two nodes (one continues, the other is
// refused with 409, the object is intact), and an aborted and an expired upload that leave no multipart
// upload and no object behind (the expired one swept by a node's start).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { NGINX, startCluster } from '../helpers/s3-cluster.ts';
import {
  getObject,
  listKeys,
  multipartUploads,
  s3Unavailable,
  startS3Engine,
  type S3Engine,
} from '../helpers/s3-engine.ts';
import { bytes, eventually, Peer } from './peer.ts';

const MiB = 1024 * 1024;
const CHUNK = 256 * 1024;
const skip = s3Unavailable ?? (existsSync(NGINX) ? undefined : `${NGINX} missing: apt-get install -y nginx`);
const digest = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('base64')}`;

function stor(name: string, size: number, resume: string | null = null): string {
  return `STOR: ${JSON.stringify({
    filename: name,
    size,
    type: 'base64',
    parameters: [],
    v: 2,
    ext: { binary: true, window: 4, chunk: CHUNK, resume, checksum: ['sha256'], fin: true },
  })}`;
}

/** Sends [from, to) a window at a time; stops at the first answer that is not an ack. */
async function send(peer: Peer, data: Buffer, from: number, to: number): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = { offset: from };
  for (let at = from; at < to;) {
    let inFlight = 0;
    for (; inFlight < 4 && at < to; inFlight++, at += CHUNK)
      peer.socket.send(data.subarray(at, Math.min(to, at + CHUNK)));
    for (; inFlight > 0; inFlight--) {
      last = await peer.next(30_000);
      if (last.code !== 200) return last;
    }
  }
  return last;
}

describe('S3 nodes sharing a bucket', { skip }, () => {
  let engine: S3Engine;

  before(async () => {
    engine = await startS3Engine();
  });
  after(() => engine?.stop());

  it('two clients resuming one upload at once on two nodes: one continues, the other is refused', async () => {
    const bucket = await engine.bucket();
    const cluster = await startCluster(engine, bucket, 2);
    const peers: Peer[] = [];
    try {
      const data = bytes(12 * MiB + 99, 21);
      const first = await Peer.connect(cluster.nginx.url);
      peers.push(first);
      const answer = await first.ask(stor('shared.bin', data.length));
      assert.equal(answer.code, 200, JSON.stringify(answer));
      const id = String(answer.id);
      await send(first, data, 0, 6 * MiB);
      first.close();
      await first.waitClose();
      // Straight to each node, so that they are two different nodes for sure.
      const [a, b] = await Promise.all(
        cluster.nodes.map((node) => Peer.connect(`ws://127.0.0.1:${node.port}/upload`)),
      );
      peers.push(a!, b!);
      a!.socket.send(stor('shared.bin', data.length, id));
      b!.socket.send(stor('shared.bin', data.length, id));
      const answers = await Promise.all([a!.next(), b!.next()]);
      const results: { peer: Peer; answer: Record<string, unknown> }[] = [];
      for (const [i, peer] of [a!, b!].entries()) {
        const resumed = answers[i]!;
        if (resumed.code !== 200) {
          results.push({ peer, answer: resumed });
          continue;
        }
        // Both resumed one after the other: the later claim wins, the earlier one learns at its next chunk.
        results.push({
          peer,
          answer: await send(
            peer,
            data,
            Number(resumed.offset),
            Math.min(data.length, Number(resumed.offset) + CHUNK),
          ),
        });
      }
      const refused = results.filter((r) => r.answer.code === 409);
      const going = results.filter((r) => r.answer.code === 200);
      assert.equal(refused.length, 1, JSON.stringify(results.map((r) => r.answer)));
      assert.equal(going.length, 1);
      assert.match(String(refused[0]!.answer.message), /another connection/);
      const winner = going[0]!.peer;
      const last = await send(winner, data, Number(going[0]!.answer.offset), data.length);
      assert.equal(last.code, 200, JSON.stringify(last));
      const fin = await winner.ask(`FIN: ${JSON.stringify({ size: data.length, checksum: digest(data) })}`);
      assert.equal(fin.code, 200, JSON.stringify(fin));
      assert.equal(digest(await getObject(engine.client, bucket, 'shared.bin')), digest(data));
      assert.deepEqual(await multipartUploads(engine.client, bucket), []);
    } finally {
      for (const peer of peers) peer.close();
      await cluster.stop();
    }
  });

  it('an aborted and an expired upload leave no multipart upload and no object behind', async () => {
    const bucket = await engine.bucket();
    const cluster = await startCluster(engine, bucket, 2, ['--partial-expiry', '1']);
    try {
      const data = bytes(7 * MiB, 22);
      const aborting = await Peer.connect(cluster.nginx.url);
      assert.equal((await aborting.ask(stor('aborted.bin', data.length))).code, 200);
      await send(aborting, data, 0, 6 * MiB);
      const abor = await aborting.ask('ABOR: {}');
      assert.equal(abor.type, 'ABOR');
      aborting.close();
      const expiring = await Peer.connect(cluster.nginx.url);
      assert.equal((await expiring.ask(stor('expired.bin', data.length))).code, 200);
      await send(expiring, data, 0, 6 * MiB);
      expiring.close();
      await expiring.waitClose();
      await eventually(
        async () => (await multipartUploads(engine.client, bucket)).length === 1,
        'the abort done',
      );
      // A node's start sweeps what expired (and what a crash left).
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await cluster.nodes[0]!.stop('SIGTERM');
      await cluster.nodes[0]!.start();
      await eventually(
        async () => (await multipartUploads(engine.client, bucket)).length === 0,
        'swept',
        20_000,
      );
      await eventually(
        async () => (await listKeys(engine.client, bucket)).length === 0,
        'nothing left',
        20_000,
      );
    } finally {
      await cluster.stop();
    }
  });
});
