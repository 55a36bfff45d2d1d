import { Server, WebSocket as MockWebSocket, type Client } from 'mock-socket/dist/mock-socket.es.mjs';
import {
  formatAnswer,
  isBase64,
  parseCommand,
  type Answer,
  type StorCommand,
} from '../../src/protocol/index.ts';
import type { WebSocketConstructor } from '../../src/core/index.ts';

/**
 * mock-socket's WebSocket, typed as the constructor the transfer's `WebSocket` option takes. Injecting it
 * (with the server created with `mock: false`) leaves the page's real `WebSocket` alone.
 */
export const MockWebSocketClass = class extends MockWebSocket {
  // A real WebSocket sends a typed-array view's bytes; mock-socket would stringify the view. Block integrity
  // sends chunks as views of the block read at once, so they become what the wire would carry.
  override send(data: Parameters<MockWebSocket['send']>[0] | ArrayBufferView): void {
    super.send(
      ArrayBuffer.isView(data)
        ? (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer)
        : data,
    );
  }
} as unknown as WebSocketConstructor;

let serial = 0;

/** A URL no other test uses, so a server left over from a failed test cannot answer the next one. */
export function uniqueUrl(): string {
  serial += 1;
  return `ws://upload.test/${serial}`;
}

/** A frame the server received, in arrival order. */
export type Frame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array };

/**
 * How the server behaves:
 * - `manual`: records frames and answers nothing; the test answers step by step.
 * - `v1`: a correct v1 server: answers AUTH and STOR with 200, decodes each chunk (base64 or binary, as the
 *   STOR said) and answers DATA with its decoded byte count.
 * - `php2012`: the 2012 PHP server as it really behaves: never answers AUTH, matches `STOR:` with a one-line
 *   regex, treats every other frame (even binary) as loose base64 and reports `bytesRead` as a UTF-8
 *   character count of the decoded chunk.
 */
export type MockServerMode = 'manual' | 'v1' | 'php2012';

/** What the automatic modes are about to answer, handed to a {@link MockServerOptions.reply} hook. */
export interface Step {
  /** What the frame was. */
  kind: 'AUTH' | 'STOR' | 'DATA';
  /** For DATA, the 0-based index of the chunk; else 0. */
  index: number;
  /** The answer the mode would send, or null when it would stay silent. */
  answer: Answer | null;
}

/** A replacement answer: an answer object or raw frame to send, null for silence, undefined for the default. */
export type Reply = Answer | string | ArrayBuffer | null | undefined;

/** Options of {@link MockServer}. */
export interface MockServerOptions {
  /** How to answer (default `v1`). */
  mode?: MockServerMode;
  /** Lets a test replace any automatic answer, for example a 500 to the third chunk. */
  reply?: (step: Step, frame: Frame) => Reply;
  /**
   * Also replaces the page's global `WebSocket` with mock-socket's until {@link MockServer.stop}, for code
   * that uses the global (the seed snippet). Default false: tests inject {@link MockWebSocketClass}.
   */
  mockGlobal?: boolean;
}

/**
 * A scripted upload server on mock-socket, for one client at a time. It records every frame and every
 * answer in {@link MockServer.log} (`recv …` / `send …` lines) so that tests can assert the conversation's order;
 * tests may push their own lines (events) into the same log.
 */
export class MockServer {
  /** The URL to give the transfer. */
  readonly url: string;
  /** Every frame received, in order. */
  readonly frames: Frame[] = [];
  /** The conversation as lines: `recv AUTH`, `send STOR 200`, `recv DATA 3`, `close 1000`, … */
  readonly log: string[] = [];
  /** Close codes of client connections, as the server saw them end. */
  readonly closes: number[] = [];
  /** The STOR the server accepted, if any. */
  stor: StorCommand | undefined;
  /** How many connections were opened. */
  connections = 0;

  readonly #server: Server;
  readonly #mode: MockServerMode;
  readonly #reply: MockServerOptions['reply'];
  readonly #chunks: Uint8Array[] = [];
  #client: Client | undefined;
  #dataIndex = 0;
  #consumed = 0;
  #frameWaiters: (() => void)[] = [];

  /**
   * @param options - mode and reply hook
   */
  constructor(options: MockServerOptions = {}) {
    this.url = uniqueUrl();
    this.#mode = options.mode ?? 'v1';
    this.#reply = options.reply;
    this.#server = new Server(this.url, { mock: options.mockGlobal ?? false });
    this.#server.on('connection', (client) => {
      this.connections += 1;
      this.#client = client;
      this.log.push('connection');
      client.on('message', (data) => this.#receive(data as string | ArrayBuffer));
      // The client socket's own close event (the server-side one carries no code in mock-socket).
      (client as unknown as { on(type: 'close', cb: (event: CloseEvent) => void): void }).on(
        'close',
        (event) => {
          this.closes.push(event.code);
          this.log.push(`close ${event.code}`);
        },
      );
    });
  }

  /** The data bytes received so far, concatenated (decoded for base64). */
  get received(): Uint8Array {
    const total = this.#chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  /** The data frames received (every frame after STOR). */
  get dataFrames(): Frame[] {
    const storAt = this.frames.findIndex((frame) => frame.kind === 'text' && /^\s*STOR/.test(frame.text));
    return storAt < 0 ? [] : this.frames.slice(storAt + 1);
  }

  /** Whether the current client socket is still open (false once closed, or when none connected). */
  get clientOpen(): boolean {
    return this.#client !== undefined && this.#client.readyState === 1;
  }

  /**
   * The next frame not yet taken by this method, waiting for it if needed.
   *
   * @param timeout - milliseconds to wait before failing
   * @returns the frame
   */
  async nextFrame(timeout = 2000): Promise<Frame> {
    const deadline = Date.now() + timeout;
    while (this.#consumed >= this.frames.length) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`MockServer: no frame #${this.#consumed} within ${timeout} ms.`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#frameWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames[this.#consumed++]!;
  }

  /**
   * The next frame as text, failing if it is binary.
   *
   * @param timeout - milliseconds to wait before failing
   * @returns the text
   */
  async nextText(timeout = 2000): Promise<string> {
    const frame = await this.nextFrame(timeout);
    if (frame.kind !== 'text') throw new Error('MockServer: expected a text frame, got a binary one.');
    return frame.text;
  }

  /**
   * Sends an answer (formatted as the 2012 server did) or a raw frame to the client.
   *
   * @param answer - an answer object, or a raw string / ArrayBuffer frame
   */
  send(answer: Answer | string | ArrayBuffer): void {
    if (!this.#client) throw new Error('MockServer: no client to answer.');
    const frame = typeof answer === 'string' || answer instanceof ArrayBuffer ? answer : formatAnswer(answer);
    this.log.push(
      typeof answer === 'string' || answer instanceof ArrayBuffer
        ? 'send raw'
        : `send ${answer.type} ${answer.code}`,
    );
    this.#client.send(frame);
  }

  /**
   * Closes the client's connection from the server side.
   *
   * @param code - the close code the client sees
   * @param reason - the close reason
   */
  closeClient(code = 1000, reason = ''): void {
    this.#client?.close({ code, reason, wasClean: code === 1000 });
  }

  /** Makes the client socket report an error (mock-socket also marks it closed, without a close event). */
  simulateError(): void {
    this.#server.simulate('error');
  }

  /** Stops listening; call it after every test. */
  stop(): void {
    this.#server.stop();
  }

  #receive(data: string | ArrayBuffer): void {
    const frame: Frame =
      typeof data === 'string'
        ? { kind: 'text', text: data }
        : { kind: 'binary', bytes: new Uint8Array(data) };
    this.frames.push(frame);
    const waiters = this.#frameWaiters;
    this.#frameWaiters = [];
    for (const wake of waiters) wake();
    if (this.#mode === 'manual') {
      this.log.push(`recv ${describeFrame(frame)}`);
      return;
    }
    const step = this.#mode === 'php2012' ? this.#php2012(frame) : this.#v1(frame);
    this.log.push(step.kind === 'DATA' ? `recv DATA ${step.index}` : `recv ${step.kind}`);
    const reply = this.#reply?.(step, frame);
    const answer = reply === undefined ? step.answer : reply;
    if (answer !== null) this.send(answer);
  }

  #v1(frame: Frame): Step {
    if (frame.kind === 'text' && /^\s*(AUTH|STOR)\b/.test(frame.text)) {
      const parsed = parseCommand(frame.text);
      if (!parsed.ok) {
        return {
          kind: 'STOR',
          index: 0,
          answer: { type: 'ERROR', code: 400, message: parsed.error.message },
        };
      }
      if (parsed.value.command === 'AUTH') {
        return { kind: 'AUTH', index: 0, answer: { type: 'AUTH', code: 200, message: 'Authenticated' } };
      }
      if (parsed.value.command === 'STOR') this.stor = parsed.value;
      return { kind: 'STOR', index: 0, answer: storOk() };
    }
    const index = this.#dataIndex++;
    let bytes: Uint8Array;
    if (this.stor?.type === 'binary') {
      if (frame.kind !== 'binary') return dataError(index, 'Expected a binary frame.');
      bytes = frame.bytes;
    } else {
      if (frame.kind !== 'text' || !isBase64(frame.text)) return dataError(index, 'Expected base64 text.');
      bytes = decodeBase64(frame.text);
    }
    this.#chunks.push(bytes);
    return { kind: 'DATA', index, answer: { type: 'DATA', code: 200, bytesRead: bytes.length } };
  }

  #php2012(frame: Frame): Step {
    if (frame.kind === 'text' && /^AUTH/.test(frame.text)) return { kind: 'AUTH', index: 0, answer: null };
    const match = frame.kind === 'text' ? /^STOR: (.*)$/.exec(frame.text) : null;
    if (match) {
      const body = JSON.parse(match[1]!) as Omit<StorCommand, 'command'>;
      this.stor = { command: 'STOR', ...body };
      return { kind: 'STOR', index: 0, answer: storOk() };
    }
    // PHP's base64_decode: a binary frame is read as a string, and characters outside the alphabet are dropped.
    const text = frame.kind === 'text' ? frame.text : String.fromCharCode(...frame.bytes);
    const bytes = decodeBase64(looseBase64(text));
    this.#chunks.push(bytes);
    const index = this.#dataIndex++;
    return { kind: 'DATA', index, answer: { type: 'DATA', code: 200, bytesRead: utf8CharacterCount(bytes) } };
  }
}

function storOk(): Answer {
  return { type: 'STOR', code: 200, message: 'Upload initialized. Wait for data' };
}

function dataError(index: number, message: string): Step {
  return { kind: 'DATA', index, answer: { type: 'DATA', code: 400, message } };
}

function describeFrame(frame: Frame): string {
  if (frame.kind === 'binary') return `binary ${frame.bytes.length}`;
  const command = /^\s*(AUTH|STOR)\b/.exec(frame.text)?.[1];
  return command ?? `text ${frame.text.length}`;
}

/**
 * Decodes base64 text.
 *
 * @param text - canonical padded base64
 * @returns the bytes
 */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function looseBase64(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9+/]/g, '');
  const usable = clean.slice(0, clean.length - (clean.length % 4 === 1 ? 1 : 0));
  return usable + '='.repeat((4 - (usable.length % 4)) % 4);
}

/** What PHP's `mb_strlen($data, 'UTF-8')` roughly reports: bytes that are not UTF-8 continuation bytes. */
function utf8CharacterCount(bytes: Uint8Array): number {
  let count = 0;
  for (const byte of bytes) if ((byte & 0xc0) !== 0x80) count += 1;
  return count;
}
