// The S3 store against a real Ceph RGW (test/services/s3-engine.sh): parts and tails, the SHA-256 across
// nodes, the claim and its fence, naming without overwriting, metadata, and nothing left behind by a
// discard, an expiry or a crash. "Nodes" here are S3Store instances sharing nothing but the bucket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { RefusalError } from '../../src/server/refusal.ts';
import { s3StoreOf } from '../../src/server/stores/s3-flags.ts';
import { MAX_OBJECT, MAX_PARTS, MIN_PART, partSizeFor, S3Store } from '../../src/server/stores/s3-store.ts';
import type { PartialUpload } from '../../src/server/stores/store.ts';
import {
  getObject,
  listKeys,
  multipartUploads,
  s3Unavailable,
  startS3Engine,
  type S3Engine,
} from '../helpers/s3-engine.ts';
import { bytes, Peer, startServer } from './peer.ts';

const MiB = 1024 * 1024;
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const ONE_HOUR = 60 * 60 * 1000;

/** The engine's client settings, for a second client of one's own. */
function engineClientConfig(engine: S3Engine) {
  return {
    endpoint: engine.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: engine.accessKey, secretAccessKey: engine.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
  };
}

/** Writes like a session does (without waiting between chunks), then waits as its last ack would. */
async function writeAll(upload: PartialUpload, data: Buffer, from: number, to: number, chunk = 700 * 1024) {
  for (let at = from; at < to; at += chunk) await upload.write(data.subarray(at, Math.min(to, at + chunk)));
  await upload.durable?.(to);
}

describe('S3 part sizes', () => {
  it('keeps any file up to 5 TiB within 10,000 parts of at least 5 MiB', () => {
    for (const size of [0, 1, MIN_PART, 64 * MiB, 50_000 * MiB, 1024 * 1024 * MiB, MAX_OBJECT]) {
      const part = partSizeFor(size);
      assert.ok(part >= MIN_PART, `${size}: ${part}`);
      assert.ok(Math.ceil(size / part) <= MAX_PARTS, `${size}: ${Math.ceil(size / part)} parts`);
    }
    assert.equal(partSizeFor(64 * MiB), MIN_PART);
    assert.throws(() => partSizeFor(MAX_OBJECT + 1), /5 TiB/);
  });
});

describe('S3 command-line flags', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/server/cli.ts', '--port', '0', ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('refuses --dir with --s3-bucket, --naming sha256, a bad endpoint and credentials on argv', () => {
    const cases: [string[], RegExp][] = [
      [['--dir', '/tmp/x', '--s3-bucket', 'b'], /Use --dir or --s3-bucket, not both/],
      [['--s3-bucket', 'b', '--naming', 'sha256'], /--naming sha256 is not available with --s3-bucket/],
      [['--s3-bucket', 'b', '--s3-endpoint', 'ftp://x'], /--s3-endpoint must be an http\(s\) URL/],
      [['--s3-bucket', 'b', '--s3-secret-key', 'k'], /Unknown option '--s3-secret-key'/],
      [['--s3-bucket', 'b', '--s3-prefix', '../up'], /Invalid S3 prefix/],
    ];
    for (const [args, message] of cases) {
      const result = run(...args);
      assert.equal(result.status, 1, args.join(' '));
      assert.match(result.stderr, message, args.join(' '));
    }
  });

  it('builds the store from the flags', () => {
    const store = s3StoreOf({
      's3-bucket': 'b',
      's3-prefix': 'in',
      's3-endpoint': 'http://127.0.0.1:1',
      's3-path-style': true,
    });
    assert.equal(store.bucket, 'b');
    assert.equal(store.prefix, 'in/');
    assert.throws(() => s3StoreOf({}), /needs a bucket/);
  });
});

describe('S3 store on Ceph RGW', { skip: s3Unavailable }, () => {
  let engine: S3Engine;
  let bucket: string;
  const node = (name: string, extra: Partial<ConstructorParameters<typeof S3Store>[0]> = {}) =>
    new S3Store({ client: engine.client, bucket, prefix: 'up', node: name, ...extra });

  before(async () => {
    engine = await startS3Engine();
    bucket = await engine.bucket();
  });
  after(() => engine?.stop());

  it('stores a file as parts and tail, with metadata and its SHA-256 tag, leaving no state behind', async () => {
    const store = node('a');
    const data = bytes(12 * MiB + 12345, 3);
    const upload = await store.create({
      filename: 'report.bin',
      size: data.length,
      type: 'application/x-test',
    });
    await writeAll(upload, data, 0, data.length);
    assert.equal(upload.offset, data.length);
    assert.equal(Buffer.from(await upload.sha256()).toString('hex'), sha(data));
    assert.equal(await upload.commit(), 'report.bin');
    assert.equal(sha(await getObject(engine.client, bucket, 'up/report.bin')), sha(data));
    const head = await engine.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'up/report.bin' }));
    assert.equal(head.ContentType, 'application/x-test');
    assert.equal(head.Metadata?.['original-name'], 'report.bin');
    assert.equal(head.Metadata?.size, String(data.length));
    const tags = await engine.client.send(
      new GetObjectTaggingCommand({ Bucket: bucket, Key: 'up/report.bin' }),
    );
    assert.deepEqual(tags.TagSet, [{ Key: 'sha256', Value: sha(data) }]);
    assert.deepEqual(await multipartUploads(engine.client, bucket), []);
    assert.deepEqual(
      await listKeys(engine.client, bucket, 'up/.wsfu/'),
      [],
      'v1: no record, no tail, no name',
    );
  });

  it('resumes on another node at exactly the acknowledged offset, with the right SHA-256', async () => {
    const data = bytes(11 * MiB + 777, 4);
    const first = node('a');
    const upload = await first.create({
      filename: 'moved.bin',
      size: data.length,
      resumable: { owner: 'ann', ttl: ONE_HOUR },
    });
    upload.hold();
    // 7.5 MiB acknowledged: one 5 MiB part and 2.5 MiB of tail objects.
    const acked = 7 * MiB + 512 * 1024;
    await writeAll(upload, data, 0, acked, 512 * 1024);
    // The first node dies here (nothing released); the second one knows only the bucket.
    const second = node('b');
    const resumed = await second.open(upload.id);
    assert.ok(resumed);
    assert.equal(resumed.offset, acked);
    assert.equal(resumed.owner, 'ann');
    assert.equal(resumed.size, data.length);
    resumed.hold();
    await writeAll(resumed, data, acked, data.length);
    assert.equal(Buffer.from(await resumed.sha256()).toString('hex'), sha(data));
    assert.equal(await resumed.commit(), 'moved.bin');
    assert.equal(sha(await getObject(engine.client, bucket, 'up/moved.bin')), sha(data));
    await second.remember(upload.id, {
      size: data.length,
      filename: 'moved.bin',
      checksum: 'sha256:x',
      owner: 'ann',
      expiresAt: Date.now() + ONE_HOUR,
    });
    assert.equal((await node('c').recall(upload.id))?.filename, 'moved.bin', 'the record is in the bucket');
    assert.equal(await node('c').open(upload.id), undefined, 'a committed upload is not resumed');
    assert.deepEqual(await multipartUploads(engine.client, bucket), []);
  });

  it('lets go of the tail in memory on release and reads it back to continue on the same node', async () => {
    const data = bytes(8 * MiB + 5, 9);
    const store = node('a');
    const upload = await store.create({
      filename: 'released.bin',
      size: data.length,
      resumable: { owner: null, ttl: ONE_HOUR },
    });
    upload.hold();
    await writeAll(upload, data, 0, 2.5 * MiB, 512 * 1024);
    await upload.release();
    const again = await store.open(upload.id);
    assert.equal(again, upload, 'the same node continues with the same object');
    again.hold();
    // Below a part again: acknowledged only through a tail object (the idle flush works after a release).
    await writeAll(again, data, 2.5 * MiB, 3 * MiB, 512 * 1024);
    await writeAll(again, data, 3 * MiB, data.length, 512 * 1024);
    assert.equal(Buffer.from(await again.sha256()).toString('hex'), sha(data));
    await again.commit();
    assert.equal(sha(await getObject(engine.client, bucket, 'up/released.bin')), sha(data));
  });

  it('fences a node that lost its claim: its writes are refused and never reach the object', async () => {
    const data = bytes(9 * MiB, 5);
    const a = node('a');
    const upload = await a.create({
      filename: 'fenced.bin',
      size: data.length,
      resumable: { owner: null, ttl: ONE_HOUR },
    });
    await writeAll(upload, data, 0, 3 * MiB, MiB);
    const taken = await node('b').open(upload.id);
    assert.ok(taken);
    assert.equal(taken.offset, 3 * MiB);
    // The old node keeps writing, other bytes: refused (409) when it would acknowledge them, not taken in.
    await upload.write(Buffer.alloc(MiB, 0xee));
    await assert.rejects(upload.durable!(4 * MiB), (error: unknown) => {
      assert.ok(error instanceof RefusalError);
      assert.equal(error.refusal.code, 409);
      return true;
    });
    await assert.rejects(upload.write(Buffer.alloc(MiB, 0xee)), RefusalError);
    await writeAll(taken, data, 3 * MiB, data.length, MiB);
    // Once fenced it stays fenced: not even a commit.
    await assert.rejects(upload.commit(), RefusalError);
    assert.equal(await taken.commit(), 'fenced.bin');
    assert.equal(sha(await getObject(engine.client, bucket, 'up/fenced.bin')), sha(data));
  });

  it('the old holder, refused, cannot make other bytes part of the object', async () => {
    const data = bytes(12 * MiB, 8);
    const upload = await node('a').create({
      filename: 'late-part.bin',
      size: data.length,
      resumable: { owner: null, ttl: ONE_HOUR },
    });
    await writeAll(upload, data, 0, 3 * MiB, MiB);
    const taken = (await node('b').open(upload.id))!;
    // The new holder records its first part (bytes 0–5 MiB) …
    await writeAll(taken, data, 3 * MiB, 6 * MiB, MiB);
    // … then the old one, still believing it holds the upload, completes "its" first part with other bytes:
    // S3 stores that part (same number), and the old holder is refused when it would record it.
    await upload.write(Buffer.alloc(2.5 * MiB, 0xee));
    await assert.rejects(upload.durable!(5.5 * MiB), RefusalError);
    await writeAll(taken, data, 6 * MiB, data.length, MiB);
    // The recorded ETag no longer matches: the completion refuses, nothing is stored under the name.
    await assert.rejects(taken.commit(), /not what was recorded/);
    await assert.rejects(getObject(engine.client, bucket, 'up/late-part.bin'), /NoSuchKey|NotFound/);
    await taken.discard();
  });

  it('a takeover during an UploadPart: the new holder wins, the late part of the same bytes is harmless', async () => {
    const data = bytes(11 * MiB, 12);
    // Node a's S3 client holds its UploadParts until released: the part is on its way during the takeover.
    const held: (() => void)[] = [];
    const slow = new S3Client({ ...engineClientConfig(engine) });
    slow.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand') await new Promise<void>((go) => held.push(go));
        return next(args);
      },
      { step: 'finalizeRequest', name: 'holdUploadPart' },
    );
    const a = new S3Store({ client: slow, bucket, prefix: 'up', node: 'a' });
    const upload = await a.create({
      filename: 'in-flight.bin',
      size: data.length,
      resumable: { owner: null, ttl: ONE_HOUR },
    });
    await writeAll(upload, data, 0, 3 * MiB, MiB);
    // The rest of the first part arrives at a: its UploadPart starts and is held; no ack for it.
    await upload.write(data.subarray(3 * MiB, 5 * MiB + 100));
    const acked = upload.durable!(5 * MiB + 100);
    for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((go) => setTimeout(go, 10));
    assert.equal(held.length, 1, 'the UploadPart is on its way');
    // The client reconnects to node b, which takes over at the acknowledged offset and finishes.
    const taken = (await node('b').open(upload.id))!;
    assert.equal(taken.offset, 3 * MiB);
    await writeAll(taken, data, 3 * MiB, data.length, MiB);
    // Now a's part lands (same number, same bytes), and a is refused when it would record it.
    held.shift()!();
    await assert.rejects(acked, RefusalError);
    assert.equal(await taken.commit(), 'in-flight.bin');
    assert.equal(sha(await getObject(engine.client, bucket, 'up/in-flight.bin')), sha(data));
    slow.destroy();
  });

  it('lets one of two nodes opening at once win and refuses the other with 409', async () => {
    const data = bytes(2 * MiB, 6);
    const upload = await node('a').create({
      filename: 'race.bin',
      size: data.length,
      resumable: { owner: null, ttl: ONE_HOUR },
    });
    await writeAll(upload, data, 0, MiB);
    const outcomes = await Promise.allSettled([node('b').open(upload.id), node('c').open(upload.id)]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    assert.equal(won.length, 1, JSON.stringify(outcomes.map((o) => o.status)));
    assert.equal(lost.length, 1);
    const reason = (lost[0] as PromiseRejectedResult).reason as RefusalError;
    assert.equal(reason.refusal.code, 409);
    const winner = (won[0] as PromiseFulfilledResult<PartialUpload | undefined>).value!;
    await winner.write(data.subarray(MiB));
    await winner.commit();
    assert.equal(sha(await getObject(engine.client, bucket, 'up/race.bin')), sha(data));
  });

  it('never overwrites: same names get numbered, also against objects written by others', async () => {
    await engine.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'up/taken.txt', Body: 'theirs' }));
    const store = node('a');
    const one = await store.create({ filename: 'taken.txt', size: 3 });
    const two = await node('b').create({ filename: 'taken.txt', size: 3 });
    await one.write(Buffer.from('one'));
    await two.write(Buffer.from('two'));
    assert.deepEqual([await one.commit(), await two.commit()].sort(), ['taken (1).txt', 'taken (2).txt']);
    assert.equal((await getObject(engine.client, bucket, 'up/taken.txt')).toString(), 'theirs');
    const folder = await store.create({ filename: 'x.bin', size: 0, folder: 'ann' });
    assert.equal(await folder.commit(), 'ann/x.bin', 'an empty file, in a folder');
    assert.equal((await getObject(engine.client, bucket, 'up/ann/x.bin')).length, 0);
    await assert.rejects(store.create({ filename: 'y', size: 1, folder: '.wsfu' }), /Invalid upload folder/);
    const over = node('c', { overwrite: true });
    const three = await over.create({ filename: 'taken.txt', size: 5 });
    await three.write(Buffer.from('three'));
    assert.equal(await three.commit(), 'taken.txt');
    assert.equal((await getObject(engine.client, bucket, 'up/taken.txt')).toString(), 'three');
  });

  it('puts folder paths into keys under the prefix, sanitised, and refuses folders that would leave it', async () => {
    const store = node('a');
    const nested = await store.create({ filename: 'n.bin', size: 2, folder: 'ann/photos/2024' });
    await writeAll(nested, Buffer.from('ab'), 0, 2);
    assert.equal(await nested.commit(), 'ann/photos/2024/n.bin');
    assert.equal((await getObject(engine.client, bucket, 'up/ann/photos/2024/n.bin')).toString(), 'ab');
    for (const folder of ['..', 'a/../b', 'a//b', '.wsfu/x', 'a/./b', 'a\\b', 'a/\0']) {
      await assert.rejects(store.create({ filename: 'y', size: 1, folder }), /Invalid upload folder/, folder);
    }
    await assert.rejects(
      store.create({ filename: 'y'.repeat(200), size: 1, folder: Array(6).fill('d'.repeat(150)).join('/') }),
      (error: unknown) => error instanceof RefusalError && error.refusal.code === 400,
    );
    // Through a real server: a hostile STOR path is sanitised (naming.ts, folder-path.ts) into the key.
    const server = await startServer({ store: node('s') });
    const peer = await Peer.connect(server.url);
    try {
      const data = bytes(6 * MiB + 3, 21);
      const ext = { binary: true, window: 8, chunk: MiB, resume: null, checksum: ['sha256'], fin: true };
      const body = {
        filename: 'f.bin',
        size: data.length,
        type: 'binary',
        path: '../../etc/./x\\y',
        v: 2,
        ext,
      };
      assert.equal((await peer.ask(`STOR: ${JSON.stringify(body)}`)).code, 200);
      for (let at = 0; at < data.length; at += MiB) peer.socket.send(data.subarray(at, at + MiB));
      const checksum = `sha256:${createHash('sha256').update(data).digest('base64')}`;
      let fin = await peer.ask(`FIN: ${JSON.stringify({ size: data.length, checksum })}`);
      // The 7 DATA acks come first (in order, each once its bytes are stored), then FIN's answer.
      for (let i = 0; i < 7 && fin.type === 'DATA'; i++) fin = await peer.next();
      assert.equal(fin.type, 'FIN', JSON.stringify(fin));
      assert.equal(fin.code, 200, JSON.stringify(fin));
      assert.equal(fin.filename, 'etc/x/y/f.bin');
      assert.equal(sha(await getObject(engine.client, bucket, 'up/etc/x/y/f.bin')), sha(data));
    } finally {
      peer.socket.close();
      await server.stop();
    }
  });

  it('leaves no multipart upload, object or state after a discard or an expiry', async () => {
    const b2 = await engine.bucket();
    const store = new S3Store({ client: engine.client, bucket: b2, node: 'a' });
    const data = bytes(6 * MiB, 7);
    const aborted = await store.create({
      filename: 'aborted.bin',
      size: data.length,
      resumable: { owner: null, ttl: ONE_HOUR },
    });
    await writeAll(aborted, data, 0, 5.5 * MiB, MiB);
    await aborted.discard();
    const expiring = await store.create({
      filename: 'expired.bin',
      size: data.length,
      resumable: { owner: null, ttl: 1 },
    });
    await writeAll(expiring, data, 0, 5.5 * MiB, MiB);
    await expiring.release();
    assert.equal(await node('x').expire(Date.now()), 0, 'a store on another bucket sees nothing of it');
    assert.equal(
      await new S3Store({ client: engine.client, bucket: b2, node: 'b' }).expire(Date.now() + 10),
      1,
    );
    assert.deepEqual(await multipartUploads(engine.client, b2), []);
    assert.deepEqual(await listKeys(engine.client, b2), []);
  });

  it('sweeps a multipart upload a crash left without state, once stale', async () => {
    const b3 = await engine.bucket();
    await engine.client.send(new CreateMultipartUploadCommand({ Bucket: b3, Key: 'p/crashed.bin' }));
    const store = new S3Store({ client: engine.client, bucket: b3, prefix: 'p/', staleAge: 60_000 });
    await store.expire(Date.now());
    assert.equal((await multipartUploads(engine.client, b3)).length, 1, 'not yet stale: kept');
    await store.expire(Date.now() + 120_000);
    assert.deepEqual(await multipartUploads(engine.client, b3), []);
  });
});
