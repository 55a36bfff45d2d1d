// A TCP proxy between client and server for the resume and integrity tests: it can cut the connection when
// the client-to-server stream reaches given byte counts, flip one byte of that stream, and black-hole every
// connection (bytes swallowed both ways, no FIN, no RST: a peer that vanished from the network).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/** Options of {@link TcpProxy}. */
export interface TcpProxyOptions {
  /** Cut every open connection when the total upstream byte count reaches each of these (ascending). */
  cutAt?: number[];
  /** Flip the lowest bit of the upstream byte with this total index (once, unless `flipEvery`). */
  flipAt?: number;
  /** With `flipAt`: flip again every this many upstream bytes after it (a link that keeps damaging). */
  flipEvery?: number;
}

/** A running proxy on 127.0.0.1 and a free port, to `target`. */
export class TcpProxy {
  /** Bytes the client sent through the proxy, over every connection. */
  upstream = 0;
  /** How many cuts happened. */
  cuts = 0;
  connections = 0;
  /** Bytes swallowed while black-holed, both ways. */
  swallowed = 0;
  #blackholed = false;
  readonly #server: Server;
  readonly #cutAt: number[];
  #flipAt: number | undefined;
  readonly #flipEvery: number | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #silenced = new WeakSet<Socket>();

  private constructor(server: Server, options: TcpProxyOptions) {
    this.#server = server;
    this.#cutAt = [...(options.cutAt ?? [])];
    this.#flipAt = options.flipAt;
    this.#flipEvery = options.flipEvery;
  }

  /**
   * @param targetPort - the server's port on 127.0.0.1
   * @param options - cuts and flips
   * @returns a listening proxy
   */
  static async start(targetPort: number, options: TcpProxyOptions = {}): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, options);
    server.on('connection', (client) => proxy.#pipe(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** From now on nothing passes either way, and the sockets stay open as if the peer had vanished. */
  blackhole(): void {
    this.#blackholed = true;
  }

  /**
   * The connections open now go silent both ways (as {@link blackhole}), while new ones pass: a client that
   * notices and reconnects gets through, as after a phone's network came back.
   */
  blackholeOpen(): void {
    for (const socket of this.#sockets) this.#silenced.add(socket);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  #pipe(client: Socket, targetPort: number): void {
    this.connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    this.#sockets.add(client).add(upstream);
    let dead = false;
    const drop = () => {
      dead = true;
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    const silent = () => this.#blackholed || this.#silenced.has(client);
    upstream.on('data', (data: Buffer) => {
      if (silent()) this.swallowed += data.length;
      else client.write(data);
    });
    client.on('data', (data: Buffer) => {
      if (dead) return;
      if (silent()) {
        this.swallowed += data.length;
        return;
      }
      let piece = data;
      const start = this.upstream;
      const next = this.#cutAt[0];
      if (next !== undefined && start + piece.length >= next) {
        // Deliver the bytes before the cut point, then drop both sides at once, as a broken link would.
        this.#cutAt.shift();
        this.cuts += 1;
        this.upstream = next;
        dead = true;
        upstream.write(piece.subarray(0, next - start), () => drop());
        return;
      }
      while (this.#flipAt !== undefined && this.#flipAt >= start && this.#flipAt < start + piece.length) {
        piece = Buffer.from(piece);
        piece[this.#flipAt - start]! ^= 1;
        this.#flipAt = this.#flipEvery ? this.#flipAt + this.#flipEvery : undefined;
      }
      this.upstream += piece.length;
      upstream.write(piece);
    });
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/**
 * Seeded pseudo-random numbers in [0, 1) (xorshift32), so that a failing run can be repeated.
 *
 * @param seed - any non-zero integer
 * @returns the generator
 */
export function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}
