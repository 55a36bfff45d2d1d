// The 2012 PHP WebSocketFileTransfer server, re-implemented in Node for the compatibility tests, strictly as it
// behaved (see ../shared/design/PROTOCOL.md): it never answers AUTH; it matches `STOR: ` with a one-line regex;
// it reads every other frame, binary ones too, as loose base64; its bytesRead is a UTF-8 character count; it
// never answers with a code other than 200. It cannot cope with pipelined frames or frames above 64 KiB: where
// the PHP server would misparse, this one records a violation, so that a test can fail on it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** What one connection did. */
export interface V1Upload {
  frames: { binary: boolean; length: number; text?: string }[];
  stor?: Record<string, unknown>;
  data: Buffer[];
  /** Anything the 2012 server could not have handled: pipelined frames, frames over 64 KiB, unknown text. */
  violations: string[];
}

const MAX_FRAME = 64 * 1024;

/** A running strict v1 server on 127.0.0.1 and a free port. */
export class StrictV1Server {
  readonly uploads: V1Upload[] = [];
  readonly #http: Server;
  readonly #wss: WebSocketServer;

  private constructor(http: Server, wss: WebSocketServer) {
    this.#http = http;
    this.#wss = wss;
    wss.on('connection', (socket) => this.#serve(socket));
  }

  /** @returns a listening server */
  static async start(): Promise<StrictV1Server> {
    const http = createServer();
    const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new StrictV1Server(http, wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.#http.address() as AddressInfo).port}/`;
  }

  /** The bytes of the n-th connection's upload. */
  received(n = 0): Buffer {
    return Buffer.concat(this.uploads[n]?.data ?? []);
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  #serve(socket: WebSocket): void {
    const upload: V1Upload = { frames: [], data: [], violations: [] };
    this.uploads.push(upload);
    // Answers owed: the PHP server read one frame, answered, then read the next. A second frame arriving
    // before the answer to the first went out is what made its frame parser misread headers.
    let owed = 0;
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      const text = isBinary ? undefined : raw.toString('utf8');
      upload.frames.push({ binary: isBinary, length: raw.length, ...(text !== undefined ? { text } : {}) });
      if (raw.length > MAX_FRAME) upload.violations.push(`frame of ${raw.length} bytes`);
      if (owed > 0) upload.violations.push('a frame arrived before the previous one was answered');
      if (text !== undefined && /^AUTH/.test(text)) return; // never answered
      const stor = text !== undefined ? /^STOR: (.*)$/.exec(text) : null;
      if (stor) {
        upload.stor = JSON.parse(stor[1]!) as Record<string, unknown>;
        this.#reply(socket, () => (owed -= 1), {
          type: 'STOR',
          code: 200,
          message: 'Upload initialized. Wait for data',
        });
        owed += 1;
        return;
      }
      if (text !== undefined && /^[A-Z]{3,4}:/.test(text))
        upload.violations.push(`unknown command ${text.slice(0, 5)}`);
      const asText = text ?? raw.toString('latin1');
      const bytes = Buffer.from(asText.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
      upload.data.push(bytes);
      let chars = 0;
      for (const byte of bytes) if ((byte & 0xc0) !== 0x80) chars += 1;
      owed += 1;
      this.#reply(socket, () => (owed -= 1), { type: 'DATA', code: 200, bytesRead: chars });
    });
  }

  #reply(socket: WebSocket, sent: () => void, answer: Record<string, unknown>): void {
    // PHP answered after its (blocking) file write: a turn of the event loop stands for it.
    setImmediate(() => {
      sent();
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(answer));
    });
  }
}
