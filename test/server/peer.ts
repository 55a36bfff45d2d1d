// A scripted client for server tests: real `ws` sockets, every frame and answer in order, bounded waits.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createUploadServer, type UploadServer, type UploadServerOptions } from '../../src/server/index.ts';

export interface Closed {
  code: number;
  reason: string;
}

/** A connected test client that queues every answer and the close. */
export class Peer {
  readonly socket: WebSocket;
  readonly answers: Record<string, unknown>[] = [];
  closed: Closed | undefined;
  #waiters: (() => void)[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      this.answers.push(isBinary ? { binary: true } : JSON.parse(data.toString()));
      this.#wake();
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
    socket.on('error', () => this.#wake());
  }

  static async connect(
    url: string,
    headers?: Record<string, string>,
    options: { localAddress?: string } = {},
  ): Promise<Peer> {
    const socket = new WebSocket(url, { headers, ...options });
    const peer = new Peer(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return peer;
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  async #until<T>(check: () => T | undefined, what: string, timeout = 15_000): Promise<T> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = check();
      if (value !== undefined) return value;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  #read = 0;
  /** The next answer not yet read. */
  next(timeout?: number): Promise<Record<string, unknown>> {
    return this.#until(
      () => {
        if (this.answers.length > this.#read) return this.answers[this.#read++];
        // No answer will come on a closed socket: fail now rather than at the timeout.
        if (this.closed)
          throw new Error(`Closed (${this.closed.code} ${this.closed.reason}) before an answer`);
        return undefined;
      },
      'an answer',
      timeout,
    );
  }

  /** Sends a frame and returns the answer to it. */
  async ask(frame: string | Buffer): Promise<Record<string, unknown>> {
    this.socket.send(frame);
    return this.next();
  }

  /** Resolves when the server closed the socket. */
  waitClose(timeout?: number): Promise<Closed> {
    return this.#until(() => this.closed, 'the close', timeout);
  }

  close(): void {
    this.socket.close();
  }
}

/** A fresh temp folder. */
export const tempDir = () => mkdtemp(path.join(os.tmpdir(), 'wsfu-test-'));

/** A server on 127.0.0.1, port 0, storing into a fresh temp folder. */
export async function startServer(options: Partial<UploadServerOptions> = {}) {
  const dir = await tempDir();
  const server: UploadServer = await createUploadServer({ dir, port: 0, host: '127.0.0.1', ...options });
  return {
    server,
    dir,
    url: server.url,
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Deterministic pseudo-random bytes. */
export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A v2 `STOR` frame for a resumable binary upload with a whole-file SHA-256 and FIN (`resume`: an id). */
export const storV2 = (filename: string, size: number, resume: string | null = null, window = 4) =>
  `STOR: ${JSON.stringify({
    filename,
    size,
    type: 'binary',
    v: 2,
    ext: { binary: true, window, fin: true, checksum: ['sha256'], resume },
  })}`;

/** The `FIN` frame for `data`: its size and SHA-256. */
export const finFor = (data: Buffer) =>
  `FIN: ${JSON.stringify({ size: data.length, checksum: `sha256:${createHash('sha256').update(data).digest('base64')}` })}`;

/** Finished files in the folder (the partial folder excluded). */
export async function storedFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name !== '.partial').sort();
}

/** Files left in the partial folder. */
export async function partialFiles(dir: string): Promise<string[]> {
  return readdir(path.join(dir, '.partial')).catch(() => []);
}

/** Bytes the server holds in its partial files (`.partial/<id>.part`). */
export async function partialBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await partialFiles(dir)) {
    if (name.endsWith('.part')) total += (await stat(path.join(dir, '.partial', name))).size;
  }
  return total;
}

export const readStored = (dir: string, name: string) => readFile(path.join(dir, name));

/** Sends a whole file the 2012 way: STOR, then one chunk per answer. Returns every answer. */
export async function uploadV1(
  peer: Peer,
  name: string,
  data: Buffer,
  type: 'base64' | 'binary',
  chunk = 1024,
): Promise<Record<string, unknown>[]> {
  const answers = [
    await peer.ask(`STOR: ${JSON.stringify({ filename: name, size: data.length, type, parameters: [] })}`),
  ];
  for (let at = 0; at < data.length; at += chunk) {
    const piece = data.subarray(at, at + chunk);
    answers.push(await peer.ask(type === 'base64' ? piece.toString('base64') : piece));
  }
  return answers;
}

/** Polls until check() is true, bounded. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeout = 3000,
): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
