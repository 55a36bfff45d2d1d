// For tests of a transfer's hold on sockets (test/core/transfer-link.test.ts, connection-pool.test.ts): an
// in-page mock-socket server that counts connections and records frames, and recorded connection handlers.
import { Server, type Client } from 'mock-socket/dist/mock-socket.es.mjs';
import type { ConnectionHandlers } from '../../src/core/connection.ts';
import { browserEnvironment, type TransferEnvironment } from '../../src/core/environment.ts';
import { MockWebSocketClass, uniqueUrl } from './mock-server.ts';

/** What one tenant's handlers heard, in order: `open`, `message:<text>`, `error`, `close:<code>`. */
export function recordedHandlers(): { handlers: ConnectionHandlers; heard: string[] } {
  const heard: string[] = [];
  return {
    heard,
    handlers: {
      open: () => heard.push('open'),
      message: (event) => heard.push(`message:${String(event.data)}`),
      error: () => heard.push('error'),
      close: (event) => heard.push(`close:${event.code}`),
    },
  };
}

/** A server at a URL of its own: its clients in connection order, the frames each sent, and which closed. */
export class CountingServer {
  readonly url = uniqueUrl();
  readonly env: TransferEnvironment = browserEnvironment(MockWebSocketClass);
  readonly clients: Client[] = [];
  readonly frames: string[][] = [];
  readonly closed: boolean[] = [];
  readonly #server = new Server(this.url, { mock: false });

  constructor() {
    this.#server.on('connection', (client: Client) => {
      const index = this.clients.push(client) - 1;
      this.frames.push([]);
      this.closed.push(false);
      client.on('message', (data) => this.frames[index]!.push(String(data)));
      (client as unknown as { on(type: 'close', cb: () => void): void }).on(
        'close',
        () => (this.closed[index] = true),
      );
    });
  }

  stop(): void {
    this.#server.stop();
  }
}
