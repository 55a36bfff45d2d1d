// `npm run bench -- --s3`: the S3 store's rows (issue 13), on a real Ceph RGW (test/services/s3-engine.sh)
// behind the real command's nodes and a real nginx:
// 1. one upload of --s3-mib (1024) MiB from Chromium through nginx into RGW, against the same bytes sent by
//    the SDK's own multipart upload from Node (8 MiB parts, 4 at a time: the engine's limit here);
// 2. --clients (50) concurrent --client-mib (64) MiB uploads from Node clients (the real core) over 2 nodes:
//    every object identical, each node's peak RSS, and what is left over in the bucket.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { launchE2eBrowser, randomBytes, startE2eServer, writeFiles } from '../test/e2e/harness.ts';
import { startCluster } from '../test/helpers/s3-cluster.ts';
import { listKeys, multipartUploads, startS3Engine, type S3Engine } from '../test/helpers/s3-engine.ts';
import { runTransfer } from '../test/helpers/node-client.ts';

const MiB = 1024 * 1024;

/** The SHA-256 of an object, streamed. */
async function objectHash(client: S3Client, bucket: string, key: string): Promise<string> {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  for await (const piece of answer.Body as AsyncIterable<Uint8Array>) hash.update(piece);
  return hash.digest('hex');
}

async function fileHash(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 8 * MiB })) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/** The SDK's multipart upload of a file: parts read from disk, `queue` in flight. @returns MiB/s */
async function sdkMultipart(engine: S3Engine, bucket: string, file: string, size: number): Promise<number> {
  const partSize = 8 * MiB;
  const queue = 4;
  const started = performance.now();
  const { UploadId } = await engine.client.send(
    new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'sdk.bin' }),
  );
  const handle = await open(file);
  const parts: { PartNumber: number; ETag: string }[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const n = next++;
      if (n * partSize >= size) return;
      const body = Buffer.allocUnsafe(Math.min(partSize, size - n * partSize));
      await handle.read(body, 0, body.length, n * partSize);
      const { ETag } = await engine.client.send(
        new UploadPartCommand({ Bucket: bucket, Key: 'sdk.bin', UploadId, PartNumber: n + 1, Body: body }),
      );
      parts[n] = { PartNumber: n + 1, ETag: ETag! };
    }
  };
  await Promise.all(Array.from({ length: queue }, worker));
  await handle.close();
  await engine.client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: 'sdk.bin',
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
  return size / MiB / ((performance.now() - started) / 1000);
}

/** What is left of the store's own objects: tails and name reservations (records are kept on purpose). */
async function leftovers(engine: S3Engine, bucket: string): Promise<string> {
  const keys = await listKeys(engine.client, bucket, '.wsfu/');
  const tails = keys.filter((key) => key.startsWith('.wsfu/tails/')).length;
  const names = keys.filter((key) => key.startsWith('.wsfu/names/')).length;
  const multipart = (await multipartUploads(engine.client, bucket)).length;
  return `${multipart} multipart uploads, ${tails} tail objects, ${names} name reservations`;
}

/** Runs the rows. @returns the markdown */
export async function runS3Bench(options: {
  mib: number;
  clients: number;
  clientMiB: number;
}): Promise<string> {
  const engine = await startS3Engine();
  const lines: string[] = ['## S3 store (Ceph RGW 16, memstore, on this machine)', ''];
  try {
    // Row 1: one big file.
    const size = options.mib * MiB;
    const source = await writeFiles([{ name: 'big.bin', data: Buffer.alloc(0) }]);
    const big = source.files[0]!.path;
    {
      const handle = await open(big, 'w');
      for (let at = 0, seed = 1; at < size; at += 64 * MiB, seed++) {
        await handle.write(randomBytes(Math.min(64 * MiB, size - at), seed));
      }
      await handle.close();
    }
    const expected = await fileHash(big);
    const sdkBucket = await engine.bucket();
    const sdk = await sdkMultipart(engine, sdkBucket, big, size);
    const sdkOk = (await objectHash(engine.client, sdkBucket, 'sdk.bin')) === expected;
    await engine.client.send(new DeleteObjectCommand({ Bucket: sdkBucket, Key: 'sdk.bin' }));
    const bucket = await engine.bucket();
    const cluster = await startCluster(engine, bucket, 2);
    const pages = await startE2eServer();
    const browser = await launchE2eBrowser('chromium');
    // 4 MiB chunks (the server's largest): fewer messages per part; acks come once per part either way.
    const rows: { chunk: number; mibPerSecond: number; ok: boolean }[] = [];
    try {
      const page = await browser.newPage();
      for (const chunk of [4 * MiB]) {
        await page.goto(`${pages.http}/e2e/v2.html`);
        await page.waitFor('window.ready === true', { timeout: 10_000 });
        await page.setFiles("document.querySelector('input')", [big]);
        const options = JSON.stringify({ url: cluster.nginx.url, v2ChunkSize: chunk });
        await page.evaluate(
          `window.outcome = null; upload(${options}).then((o) => (window.outcome = o)), null`,
        );
        // Polled from here: one in-page wait is bounded by the DevTools protocol's timeout (3 minutes).
        let result = null as { ok: boolean; ms: number; message?: string } | null;
        for (const deadline = Date.now() + 30 * 60_000; !result && Date.now() < deadline;) {
          await new Promise((resolve) => setTimeout(resolve, 1000));
          result = await page.evaluate<{ ok: boolean; ms: number; message?: string } | null>(
            'window.outcome',
          );
        }
        if (!result) throw new Error('the upload did not end within 30 minutes');
        if (!result.ok) throw new Error(`upload failed: ${result.message}`);
        const key = (await listKeys(engine.client, bucket)).find((k) => !k.startsWith('.wsfu/'))!;
        const ok = (await objectHash(engine.client, bucket, key)) === expected;
        rows.push({ chunk, mibPerSecond: size / MiB / (result.ms / 1000), ok });
        await engine.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      }
    } finally {
      await browser.close();
      await pages.stop();
      await cluster.stop();
      await source.remove();
    }
    lines.push(
      `| ${options.mib} MiB | MiB/s | × SDK | SHA-256 |`,
      '| --- | ---: | ---: | --- |',
      `| SDK multipart from Node (8 MiB parts, 4 in flight) | ${sdk.toFixed(1)} | 1.00 | ${sdkOk ? 'equal' : 'DIFFERS'} |`,
      ...rows.map(
        (row) =>
          `| Chromium → nginx → node → RGW, v2 chunks of ${row.chunk / 1024} KiB | ${row.mibPerSecond.toFixed(1)} | ` +
          `${(row.mibPerSecond / sdk).toFixed(2)} | ${row.ok ? 'equal' : 'DIFFERS'} |`,
      ),
      '',
      'Target: ≥ 0.8 × the SDK.',
      '',
    );
    lines.push(await concurrent(engine, options.clients, options.clientMiB));
  } finally {
    engine.stop();
  }
  return lines.join('\n');
}

async function concurrent(engine: S3Engine, clients: number, clientMiB: number): Promise<string> {
  const bucket = await engine.bucket();
  // Every client comes through nginx from 127.0.0.1: the per-client limits are raised to let them all in.
  const perClient = String(clients * 2);
  const cluster = await startCluster(engine, bucket, 2, [
    '--max-uploads-per-client',
    perClient,
    '--max-connections-per-client',
    perClient,
  ]);
  const data = randomBytes(clientMiB * MiB, 77);
  const expected = createHash('sha256').update(data).digest('hex');
  const shared = new Uint8Array(data);
  const started = performance.now();
  try {
    const outcomes = await Promise.all(
      Array.from({ length: clients }, (_, i) =>
        runTransfer(
          {
            url: cluster.nginx.url,
            file: new File([shared], `c${i}.bin`),
            retryDelays: [0, 500, 2000],
          },
          { timeout: 30 * 60_000 },
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const failures = outcomes.filter((o) => o.type !== 'success');
    const failed = failures.length;
    // Why they failed, counted by message: a figure without its reason cannot be acted on.
    const reasons = new Map<string, number>();
    for (const o of failures) {
      const reason = `${o.error?.code ?? o.type}: ${o.error?.message ?? ''}`.slice(0, 120);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    let identical = 0;
    for (let i = 0; i < clients; i++) {
      if ((await objectHash(engine.client, bucket, `c${i}.bin`).catch(() => '')) === expected) identical++;
    }
    const rss = await Promise.all(cluster.nodes.map((node) => node.peakRss()));
    return [
      `| ${clients} × ${clientMiB} MiB over 2 nodes | value |`,
      '| --- | ---: |',
      `| failed uploads | ${failed}${[...reasons].map(([r, n]) => ` — ${n} × ${r}`).join('')} |`,
      `| objects identical (GetObject + SHA-256) | ${identical} of ${clients} |`,
      `| aggregate MiB/s | ${((clients * clientMiB) / seconds).toFixed(1)} |`,
      `| peak RSS per node (MiB) | ${rss.map((r) => (r / MiB).toFixed(0)).join(', ')} (target < 300) |`,
      `| left over | ${await leftovers(engine, bucket)} |`,
      '',
    ].join('\n');
  } finally {
    await cluster.stop();
  }
}
