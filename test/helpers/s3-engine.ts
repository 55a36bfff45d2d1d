// A real S3 server for the tests: Ceph RGW from Debian, started by test/services/s3-engine.sh on ports
// picked at run time and stopped by its PIDs — or joined when already running (`npm run test:unit` and
// `test:e2e` start one for all their files with `s3-engine.sh run`), and then left to its starter.
// Tests skip with a clear message only when the Ceph binaries are absent (.ci/run installs them).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../services/s3-engine.sh');
const BINARIES = ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw', '/usr/bin/ceph'];

/** Why the S3 tests cannot run here, or undefined when they can. */
export const s3Unavailable: string | undefined = BINARIES.every((binary) => existsSync(binary))
  ? undefined
  : `Ceph binaries missing (${BINARIES.filter((b) => !existsSync(b)).join(', ')}): apt-get install ceph-mon ceph-osd radosgw ceph-common`;

/** A running engine. */
export interface S3Engine {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  client: S3Client;
  /** Environment for a child process (a server node) using it. */
  env: Record<string, string>;
  /** Creates a fresh bucket. */
  bucket(name?: string): Promise<string>;
  stop(): void;
}

async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port with `count` free ports from it, in the unprivileged range below the ephemeral one. */
async function freePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let free = true;
    for (let i = 0; i < count && free; i++) free = await isFree(base + i);
    if (free) return base;
  }
  throw new Error('No free ports for the S3 engine.');
}

let buckets = 0;

/** Starts the engine (or joins the running one). */
export async function startS3Engine(): Promise<S3Engine> {
  // Running already (`s3-engine.sh run`, or another test process): joined, and left running for its starter.
  const joined = spawnSync('bash', [SCRIPT, 'status'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  const s3Port = await freePorts(1);
  const monPort = await freePorts(2);
  const osdPort = await freePorts(8);
  const line = execFileSync('bash', [SCRIPT, 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      S3_ENGINE_PORT: String(s3Port),
      S3_ENGINE_MON_PORT: String(monPort),
      S3_ENGINE_OSD_PORT: String(osdPort),
    },
    timeout: 180_000,
  });
  const vars = Object.fromEntries(
    line
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split('=', 2) as [string, string]),
  );
  const endpoint = vars.S3_ENDPOINT!;
  const accessKey = vars.S3_ACCESS_KEY!;
  const secretKey = vars.S3_SECRET_KEY!;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: accessKey, secretAccessKey: secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    accessKey,
    secretKey,
    client,
    env: { AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: secretKey },
    async bucket(name = `t${process.pid}-${Date.now().toString(36)}-${buckets++}`) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    stop() {
      client.destroy();
      if (joined) return;
      execFileSync('bash', [SCRIPT, 'stop'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 60_000 });
    },
  };
}

/** Every key in the bucket. */
export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const answer = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of answer.Contents ?? []) keys.push(object.Key!);
    if (!answer.IsTruncated) break;
    token = answer.NextContinuationToken;
  }
  return keys.sort();
}

/** The multipart uploads in progress in the bucket. */
export async function multipartUploads(client: S3Client, bucket: string): Promise<string[]> {
  const answer = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (answer.Uploads ?? []).map((upload) => `${upload.Key} ${upload.UploadId}`);
}

/** An object's bytes. */
export async function getObject(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}
