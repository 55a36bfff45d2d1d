// The bench's link emulator: a userspace TCP proxy on 127.0.0.1 that makes loopback look like a real network
// link, one pair of pipes (client → server "up", server → client "down") per proxied connection. Each pipe
// has a one-way delay, a rate (bytes per second) and a bounded queue. No kernel traffic shaping (tc/netem) is
// available on the bench machines, hence userspace.
//
// The model, per direction: bytes that arrive are cut into packets of at most 16 KiB; each packet leaves the
// link's "wire" once the link has serialised it at the rate (packets wait their turn: that wait is the
// queue) and arrives `delayMs` after that. When the queue holds more than `queueBytes`, or the pipe holds
// more than what the wire and queue can (the receiver is slow), the proxy stops reading the sender's socket,
// so that TCP's own flow control pushes back on the sender as a full router queue would (nothing is dropped:
// over TCP a drop would only become a retransmission delay). A new connection's first bytes leave one round
// trip after it was accepted, as after a real TCP handshake (loopback completes it at once).
//
// Bounded: at most `maxConnections` connections at once, and the whole link closes itself `lifetimeMs` after
// it started (by then every bench row has long timed out). Delivery times are checked against
// performance.now(), never before their time: the added delay is a lower bound, whatever the timers do.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One direction of the link. */
export interface LinkDirection {
  /** One-way propagation delay in milliseconds. */
  delayMs: number;
  /** Link rate in bytes per second; `Infinity` for no rate limit. */
  bytesPerSecond: number;
}

/** Options of {@link startLink}. */
export interface LinkOptions {
  /** The port on 127.0.0.1 the link forwards to (the emulator never connects anywhere else). */
  targetPort: number;
  /** Client → server. */
  up: LinkDirection;
  /** Server → client. */
  down: LinkDirection;
  /** Bytes a direction may queue waiting for its rate before the sender is paused (default: 50 ms of rate, at least 64 KiB). */
  queueBytes?: number;
  /** Connections at once (default 4096; the kernel refuses more). */
  maxConnections?: number;
  /** The link closes itself (every connection too) this long after it started (default 30 minutes). */
  lifetimeMs?: number;
}

/** A running link. */
export interface Link {
  /** The port on 127.0.0.1 to connect to instead of the target's. */
  port: number;
  /** What went through so far. */
  stats(): LinkStats;
  /** Stops listening and destroys every proxied connection. */
  close(): Promise<void>;
}

/** Counters of a link. */
export interface LinkStats {
  /** Connections accepted since the start. */
  connections: number;
  /** Bytes delivered to the target (client → server). */
  bytesUp: number;
  /** Bytes delivered to clients (server → client). */
  bytesDown: number;
}

const PACKET = 16 * 1024;
/** Bytes a pipe may hold at most when its rate is unlimited (only the delay line holds bytes then). */
const UNLIMITED_PIPE_BYTES = 64 * 1024 * 1024;

/** Default queue bound: 50 ms at the rate (a modest router buffer), at least 64 KiB. */
export function defaultQueueBytes(bytesPerSecond: number): number {
  return Number.isFinite(bytesPerSecond) ? Math.max(64 * 1024, Math.round(bytesPerSecond * 0.05)) : 64 * 1024;
}

interface Packet {
  /** null: the sender ended its side (FIN), delivered in order after the data. */
  data: Buffer | null;
  /** performance.now() at which the packet may be handed to the receiver. */
  at: number;
}

/** One direction of one proxied connection. */
class Pipe {
  readonly #source: Socket;
  readonly #destination: Socket;
  readonly #delayMs: number;
  readonly #rate: number;
  readonly #queueBytes: number;
  readonly #maxPipeBytes: number;
  readonly #onDelivered: (bytes: number) => void;
  readonly #packets: Packet[] = [];
  #head = 0;
  /** When the link will have serialised every packet accepted so far (performance.now() ms). */
  #linkFreeAt: number;
  /** Bytes accepted from the source and not yet written to the destination. */
  #pipeBytes = 0;
  #paused = false;
  /** The destination's write buffer is full: wait for its 'drain'. */
  #blocked = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  constructor(
    source: Socket,
    destination: Socket,
    direction: LinkDirection,
    queueBytes: number,
    firstDepartureAt: number,
    onDelivered: (bytes: number) => void,
  ) {
    this.#source = source;
    this.#destination = destination;
    this.#delayMs = direction.delayMs;
    this.#rate = direction.bytesPerSecond;
    this.#queueBytes = queueBytes;
    const wireBytes = Number.isFinite(this.#rate)
      ? (this.#rate * this.#delayMs) / 1000
      : UNLIMITED_PIPE_BYTES - queueBytes;
    this.#maxPipeBytes = Math.ceil(wireBytes + queueBytes + PACKET);
    this.#linkFreeAt = firstDepartureAt;
    this.#onDelivered = onDelivered;
    source.on('data', (chunk: Buffer) => this.#accept(chunk));
    source.on('end', () => {
      this.#enqueue(null);
      this.#tick();
    });
    destination.on('drain', () => {
      this.#blocked = false;
      this.#tick();
    });
  }

  /** Bytes waiting for the link's rate at `now`. */
  #queued(now: number): number {
    if (!Number.isFinite(this.#rate)) return 0;
    return Math.max(0, ((this.#linkFreeAt - now) * this.#rate) / 1000);
  }

  #accept(chunk: Buffer): void {
    for (let at = 0; at < chunk.length; at += PACKET) this.#enqueue(chunk.subarray(at, at + PACKET));
    this.#tick();
  }

  #enqueue(data: Buffer | null): void {
    const now = performance.now();
    const length = data?.length ?? 0;
    const departs = Math.max(now, this.#linkFreeAt) + (length / this.#rate) * 1000;
    this.#linkFreeAt = departs;
    this.#packets.push({ data, at: departs + this.#delayMs });
    this.#pipeBytes += length;
  }

  /** Delivers what is due, pauses or resumes the source, and sets the timer for the next event. */
  #tick(): void {
    const now = performance.now();
    while (this.#head < this.#packets.length && !this.#blocked) {
      const packet = this.#packets[this.#head]!;
      if (packet.at > now) break;
      this.#head++;
      if (packet.data === null) {
        this.#destination.end();
        continue;
      }
      this.#pipeBytes -= packet.data.length;
      this.#onDelivered(packet.data.length);
      if (!this.#destination.write(packet.data)) this.#blocked = true;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#packets.length) {
      this.#packets.splice(0, this.#head);
      this.#head = 0;
    }
    const full = this.#queued(now) > this.#queueBytes || this.#pipeBytes > this.#maxPipeBytes;
    if (full && !this.#paused) {
      this.#paused = true;
      this.#source.pause();
    } else if (!full && this.#paused) {
      this.#paused = false;
      this.#source.resume();
    }
    // Next event: the head packet's time, or (while paused for a full queue) when half the queue is out.
    let next = this.#blocked ? Infinity : (this.#packets[this.#head]?.at ?? Infinity);
    if (this.#paused && Number.isFinite(this.#rate)) {
      next = Math.min(next, this.#linkFreeAt - (this.#queueBytes / 2 / this.#rate) * 1000);
    }
    this.#arm(next, now);
  }

  #arm(at: number, now: number): void {
    if (at === this.#timerAt && this.#timer) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (!Number.isFinite(at)) return;
    // Timers may fire a little early; #tick checks every packet's time against performance.now() again.
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.#tick();
      },
      Math.max(1, Math.ceil(at - now)),
    );
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#packets.length = 0;
    this.#head = 0;
  }
}

/**
 * Starts a link in front of `127.0.0.1:targetPort`.
 *
 * @param options - see {@link LinkOptions}
 * @returns the running link, listening on 127.0.0.1 and a port picked by the system
 */
export async function startLink(options: LinkOptions): Promise<Link> {
  for (const [name, direction] of [
    ['up', options.up],
    ['down', options.down],
  ] as const) {
    if (!(direction.delayMs >= 0 && Number.isFinite(direction.delayMs)))
      throw new RangeError(`${name}.delayMs must be a finite number ≥ 0`);
    if (!(direction.bytesPerSecond > 0)) throw new RangeError(`${name}.bytesPerSecond must be > 0`);
  }
  const rtt = options.up.delayMs + options.down.delayMs;
  const stats: LinkStats = { connections: 0, bytesUp: 0, bytesDown: 0 };
  const sockets = new Set<Socket>();
  const pipes = new Set<Pipe>();
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    stats.connections++;
    const target = connect({
      host: '127.0.0.1',
      port: options.targetPort,
      allowHalfOpen: true,
      noDelay: true,
    });
    const acceptedAt = performance.now();
    const up = new Pipe(
      client,
      target,
      options.up,
      options.queueBytes ?? defaultQueueBytes(options.up.bytesPerSecond),
      acceptedAt + rtt,
      (bytes) => (stats.bytesUp += bytes),
    );
    const down = new Pipe(
      target,
      client,
      options.down,
      options.queueBytes ?? defaultQueueBytes(options.down.bytesPerSecond),
      acceptedAt,
      (bytes) => (stats.bytesDown += bytes),
    );
    const pair = [client, target];
    for (const socket of pair) {
      sockets.add(socket);
      // A reset or error on one side ends both: the other side learns of it as it would of a broken link.
      socket.on('error', () => pair.forEach((each) => each.destroy()));
      socket.on('close', () => {
        sockets.delete(socket);
        if (pair.every((each) => each.destroyed)) {
          up.stop();
          down.stop();
          pipes.delete(up);
          pipes.delete(down);
        }
      });
    }
    pipes.add(up).add(down);
  });
  server.maxConnections = options.maxConnections ?? 4096;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      clearTimeout(lifetime);
      server.close(() => resolve());
      for (const pipe of pipes) pipe.stop();
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  };
  const lifetime = setTimeout(() => void close(), options.lifetimeMs ?? 30 * 60_000);
  lifetime.unref();
  return { port: (server.address() as AddressInfo).port, stats: () => ({ ...stats }), close };
}
