import { Server, type Client } from 'mock-socket/dist/mock-socket.es.mjs';
import { formatAnswer, parseCommand, type Answer } from '../../src/protocol/index.ts';
import { decodeBase64, uniqueUrl } from './mock-server.ts';

/** One connection as a {@link QueueServer} saw it. */
export interface Connection {
  /** The AUTH frame's text, if one came. */
  auth: string | undefined;
  /** The STOR's file name. */
  filename: string | undefined;
  /** The STOR frame as sent. */
  stor?: string;
  /** Decoded data bytes received. */
  bytes: number[];
  /** Whether the client closed it. */
  closed: boolean;
  /** The v2 upload id this connection sends to (with the `v2` option). */
  upload?: string;
  /** The id its STOR offered to resume, if any. */
  resumed?: string | null;
}

/** Options of {@link QueueServer}. */
export interface QueueServerOptions {
  /** Holds every DATA answer until {@link QueueServer.release} (to observe files in flight). */
  hold?: boolean;
  /** Lets a test refuse a STOR: return an error answer, or undefined to accept. */
  refuseStor?: (filename: string, attempt: number) => Answer | undefined;
  /**
   * Also replaces the page's global `WebSocket` until {@link QueueServer.stop}, for code that cannot be
   * given a constructor (the element). Default false.
   */
  mockGlobal?: boolean;
  /**
   * Grants protocol v2 to a client that offers it: an upload id, binary chunks acknowledged by offset, one
   * chunk in flight, no checksum, FIN; a STOR that resumes a known id continues from the bytes held.
   * Default false: a v1 server.
   */
  v2?: boolean;
}

/**
 * A v1 upload server on mock-socket that serves many clients at once, each with its own conversation
 * (the single-client MockServer answers only its latest client). For queue and element tests.
 */
export class QueueServer {
  /** The URL to upload to. */
  readonly url = uniqueUrl();
  /** Every connection, in the order opened. */
  readonly connections: Connection[] = [];
  /** The most connections open at the same moment. */
  maxOpen = 0;
  readonly #server: Server;
  readonly #held: (() => void)[] = [];
  readonly #attempts = new Map<string, number>();
  /** v2 uploads by id: the bytes held so far. */
  readonly #uploads = new Map<string, number[]>();
  #hold: boolean;

  /**
   * @param options - hold and refusal hooks
   */
  constructor(options: QueueServerOptions = {}) {
    this.#hold = options.hold ?? false;
    this.#server = new Server(this.url, { mock: options.mockGlobal ?? false });
    this.#server.on('connection', (client: Client) => {
      const connection: Connection = { auth: undefined, filename: undefined, bytes: [], closed: false };
      this.connections.push(connection);
      this.maxOpen = Math.max(this.maxOpen, this.open);
      const answer = (value: Answer): void => client.send(formatAnswer(value));
      client.on('message', (data) => {
        const text = typeof data === 'string' ? data : null;
        if (text !== null && /^\s*(AUTH|STOR)\b/.test(text)) {
          const parsed = parseCommand(text);
          if (!parsed.ok) return answer({ type: 'ERROR', code: 400, message: parsed.error.message });
          if (parsed.value.command === 'AUTH') {
            connection.auth = text;
            return answer({ type: 'AUTH', code: 200, message: 'Authenticated' });
          }
          if (parsed.value.command !== 'STOR')
            return answer({ type: 'ERROR', code: 400, message: 'v1 only' });
          const filename = parsed.value.filename;
          connection.filename = filename;
          connection.stor = text;
          const attempt = (this.#attempts.get(filename) ?? 0) + 1;
          this.#attempts.set(filename, attempt);
          const refusal = options.refuseStor?.(filename, attempt);
          if (refusal) return answer(refusal);
          if (options.v2 && parsed.value.v === 2) return answer(this.#grant(connection, parsed.value.ext));
          return answer({ type: 'STOR', code: 200, message: 'Upload initialized. Wait for data' });
        }
        if (text !== null && /^\s*FIN\b/.test(text) && connection.upload) {
          const size = this.#uploads.get(connection.upload)!.length;
          return answer({
            type: 'FIN',
            code: 200,
            message: 'Stored',
            id: connection.upload,
            size,
            filename: connection.filename,
          });
        }
        const bytes = text !== null ? decodeBase64(text) : new Uint8Array(data as ArrayBuffer);
        connection.bytes.push(...bytes);
        const held = connection.upload ? this.#uploads.get(connection.upload)! : null;
        held?.push(...bytes);
        const ack = (): void =>
          answer({
            type: 'DATA',
            code: 200,
            bytesRead: bytes.length,
            ...(held ? { offset: held.length } : {}),
          });
        if (this.#hold) this.#held.push(ack);
        else ack();
      });
      (client as unknown as { on(type: 'close', cb: () => void): void }).on('close', () => {
        connection.closed = true;
      });
    });
  }

  #grant(connection: Connection, ext: Record<string, unknown> | undefined): Answer {
    const offered = typeof ext?.resume === 'string' ? ext.resume : null;
    const id = offered !== null && this.#uploads.has(offered) ? offered : `u_${this.#uploads.size + 1}`;
    if (!this.#uploads.has(id)) this.#uploads.set(id, []);
    connection.upload = id;
    connection.resumed = offered;
    const offset = this.#uploads.get(id)!.length;
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    return {
      type: 'STOR',
      code: 200,
      message: 'Upload initialized. Wait for data',
      v: 2,
      id,
      offset,
      ext: { binary: true, window: 1, maxChunk: 65536, checksum: null, fin: true, expires },
    };
  }

  /**
   * The bytes a v2 upload holds (every connection that sent to it, in order).
   *
   * @param id - the upload id
   * @returns the bytes
   */
  heldBy(id: string): Uint8Array {
    return new Uint8Array(this.#uploads.get(id) ?? []);
  }

  /** How many connections are open now. */
  get open(): number {
    return this.connections.filter((connection) => !connection.closed).length;
  }

  /** How many DATA answers are being held. */
  get held(): number {
    return this.#held.length;
  }

  /**
   * Sends the held DATA answers and, with `stopHolding`, answers at once from now on.
   *
   * @param stopHolding - whether to stop holding answers
   */
  release(stopHolding = false): void {
    if (stopHolding) this.#hold = false;
    for (const ack of this.#held.splice(0)) ack();
  }

  /**
   * The bytes stored for a file name (the last connection that sent it).
   *
   * @param filename - the STOR file name
   * @returns the bytes
   */
  stored(filename: string): Uint8Array {
    const connection = [...this.connections].reverse().find((c) => c.filename === filename);
    return new Uint8Array(connection?.bytes ?? []);
  }

  /** Stops listening; call it after every test. */
  stop(): void {
    this.#server.stop();
  }
}
