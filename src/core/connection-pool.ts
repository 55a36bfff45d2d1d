/**
 * Many files over one connection: a pool of WebSockets that the UploadQueue's transfers lease, one upload
 * after another on each socket, authenticated once. The server grants `reuse` in its v2 STOR answer; from
 * then on, once an upload has sent its FIN it hands the socket over, and the next file's transfer joins the
 * same socket and sends its STOR at once, while the FIN answer is still on its way — the server handles
 * frames in order, so that STOR waits behind the FIN on the server, and the answers come back in the same
 * order. Each socket so keeps a line of tenants: every answer goes to the first of them, which leaves the line
 * when its upload ends; the next one then hears its own answers. When the server also granted `early`, the
 * next file sends its first bytes (a small file: all of them and its FIN) right behind its STOR, under the
 * terms the socket's previous upload got (early-data.ts), so consecutive files wait for no round trip.
 *
 * Each file keeps its own transfer (events, resume record, cancel, failure). A socket whose tenant ends in
 * anything but success (failed, aborted, retrying) is not used again: it closes once the tenants ahead of that
 * one are done, and a tenant behind it whose STOR got no answer yet reconnects on a fresh socket, as if it had
 * never joined (see {@link ConnectionLike.unanswered}). A server that does not grant reuse (v1, the 2012
 * peers) gets one socket per file, as without a pool.
 *
 * A socket may also be opened ahead of the first upload ({@link ConnectionPool.preconnect}, while the user
 * is still picking files): the first upload then takes it as if it had opened it, and it closes by itself when
 * none came.
 */
import type { Terms } from '../protocol/index.ts';
import type { ConnectionHandlers, ConnectionLike, OutgoingFrame } from './connection.ts';
import { NORMAL_CLOSURE } from './connection.ts';
import type { Failure } from './conversation.ts';
import type { TransferEnvironment } from './environment.ts';

const CONNECTING = 0;
const OPEN = 1;
/**
 * How long a socket opened ahead ({@link ConnectionPool.preconnect}) waits for its first upload (ms): under
 * the reference server's `authTimeout` (30 s), which closes a connection that sent no AUTH or STOR by then.
 */
export const PRECONNECT_IDLE_MS = 20_000;

/** The sockets of one queue, by server URL and credentials. */
export class ConnectionPool {
  readonly #sockets = new Set<SharedSocket>();
  #handedOver = 0;
  /** Called (in a microtask) when a tenant handed its socket over: its slot may start the next file. */
  onHandOver: (() => void) | null = null;

  /** Tenants that sent their FIN and let the next file in, and have not ended yet. */
  get handedOver(): number {
    return this.#handedOver;
  }

  /** Sockets open or opening. */
  get size(): number {
    return this.#sockets.size;
  }

  /**
   * Joins a socket to `url` under the same credentials that takes another upload now, or opens one.
   *
   * @param env - where the WebSocket constructor comes from
   * @param url - the upload server
   * @param authKey - the AUTH frame the upload would send ('' without credentials): sockets are not shared
   *   between identities
   * @param handlers - the transfer's handlers
   * @returns the lease, or the failure to report
   */
  lease(
    env: TransferEnvironment,
    url: string,
    authKey: string,
    handlers: ConnectionHandlers,
  ): ConnectionLike | Failure {
    const key = `${url}\n${authKey}`;
    for (const socket of this.#sockets)
      if (socket.key === key && (socket.joinable || socket.unused)) return socket.join(handlers);
    const opened = this.#open(env, url, key);
    return 'code' in opened ? opened : opened.join(handlers);
  }

  /**
   * Opens a socket ahead of the first upload (the user is still picking files), so that the upload finds it
   * open: the TCP and WebSocket handshakes (two round trips) overlap the picking. Nothing is sent on it — the
   * first upload that leases it sends AUTH and STOR as on any fresh socket, so a 2012 server sees nothing new
   * — and it closes by itself when no upload came within `idleMs`. Does nothing when a socket for these
   * credentials is already open or opening and free to take an upload.
   *
   * @param env - where the WebSocket constructor and the timers come from
   * @param url - the upload server
   * @param authKey - the AUTH frame the uploads would send ('' without credentials), as for {@link lease}
   * @param idleMs - how long it waits for an upload before it closes
   * @returns whether a socket was opened now
   */
  preconnect(env: TransferEnvironment, url: string, authKey: string, idleMs = PRECONNECT_IDLE_MS): boolean {
    const key = `${url}\n${authKey}`;
    for (const socket of this.#sockets)
      if (socket.key === key && (socket.joinable || socket.unused)) return false;
    const opened = this.#open(env, url, key);
    if ('code' in opened) return false;
    opened.expireUnused(env, idleMs);
    return true;
  }

  /** Opens a socket to `url` for the uploads of `key`, or says why it cannot. */
  #open(env: TransferEnvironment, url: string, key: string): SharedSocket | Failure {
    const WebSocketCtor = env.webSocket();
    if (!WebSocketCtor) {
      return { code: 'notSupported', message: 'This browser cannot upload over a WebSocket.', init: {} };
    }
    let socket: WebSocket;
    try {
      socket = new WebSocketCtor(url);
    } catch (cause) {
      return {
        code: 'connectionFailed',
        message: `Cannot connect to ${url}: ${String(cause)}`,
        init: { cause },
      };
    }
    const shared = new SharedSocket(this, socket, key);
    this.#sockets.add(shared);
    return shared;
  }

  /**
   * Closes the sockets no upload is using (the queue went idle); one opened ahead that no upload took yet
   * keeps to its own timer (the user may still be picking).
   */
  closeIdle(): void {
    for (const socket of this.#sockets) if (socket.idle && !socket.unused) socket.retire();
  }

  /** @internal a socket closed or retired */
  forget(socket: SharedSocket): void {
    this.#sockets.delete(socket);
  }

  /** @internal counts a hand-over (+1) or the end of a handed-over tenant (-1) */
  countHandOver(delta: 1 | -1): void {
    this.#handedOver += delta;
    if (delta === 1) queueMicrotask(() => this.onHandOver?.());
  }
}

/** One WebSocket and its line of tenants. */
class SharedSocket {
  readonly key: string;
  readonly #pool: ConnectionPool;
  readonly #socket: WebSocket;
  readonly #line: Lease[] = [];
  /** Tenants it ever carried: a later one joined a socket that carried others. */
  #carried = 0;
  #retiring = false;
  /** The timer that closes a socket opened ahead when no upload takes it. */
  #expiry: { env: TransferEnvironment; timer: unknown } | null = null;
  /** Opened ahead of its first upload (preconnect). */
  #ahead = false;
  authenticated = false;
  reuse = false;
  /** The terms of the last upload the server granted reuse on it: what early data is sent under. */
  terms: Terms | null = null;

  constructor(pool: ConnectionPool, socket: WebSocket, key: string) {
    this.#pool = pool;
    this.#socket = socket;
    this.key = key;
    socket.binaryType = 'arraybuffer';
    // Only the first tenant waits for `open`: later ones join sockets already open.
    socket.addEventListener('open', () => {
      const first = this.#line[0];
      if (first && !first.ended) first.handlers.open();
    });
    socket.addEventListener('message', (event: MessageEvent) => this.#line[0]?.deliver(event));
    socket.addEventListener('error', () => {
      for (const lease of [...this.#line]) if (!lease.ended) lease.handlers.error();
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      this.#stopExpiry();
      this.#retiring = true;
      this.#pool.forget(this);
      for (const lease of this.#line.splice(0)) if (!lease.ended) lease.handlers.close(event);
    });
  }

  get isOpen(): boolean {
    return this.#socket.readyState === OPEN;
  }

  /** No tenant uses it. */
  get idle(): boolean {
    return this.#line.length === 0;
  }

  /** Opened ahead and never used: open or opening, and no upload joined it yet (the first may). */
  get unused(): boolean {
    const state = this.#socket.readyState;
    return !this.#retiring && this.#carried === 0 && (state === CONNECTING || state === OPEN);
  }

  /**
   * Closes the socket after `ms` unless an upload joined it by then.
   *
   * @param env - the timers
   * @param ms - how long to wait
   */
  expireUnused(env: TransferEnvironment, ms: number): void {
    this.#ahead = true;
    const timer = env.setTimeout(() => {
      this.#expiry = null;
      if (this.#carried === 0) this.retire();
    }, ms);
    this.#expiry = { env, timer };
  }

  /** An upload joined, or the socket closed: the socket opened ahead no longer waits to expire. */
  #stopExpiry(): void {
    this.#expiry?.env.clearTimeout(this.#expiry.timer);
    this.#expiry = null;
  }

  /** Whether a new upload may join now: open, reuse granted, and the last tenant sent its FIN (or none). */
  get joinable(): boolean {
    const last = this.#line.at(-1);
    return !this.#retiring && this.reuse && this.isOpen && (last === undefined || last.handedOver);
  }

  join(handlers: ConnectionHandlers): Lease {
    this.#stopExpiry();
    const lease = new Lease(this, this.#pool, handlers, this.#carried > 0, this.#carried > 0 || this.#ahead);
    this.#carried += 1;
    this.#line.push(lease);
    // A socket already open: the upload starts talking once the caller has its lease.
    if (this.isOpen) queueMicrotask(() => lease.ended || handlers.open());
    return lease;
  }

  send(data: OutgoingFrame): void {
    this.#socket.send(data);
  }

  /**
   * A tenant ended. A success leaves the line (it was first: it had its last answer); anything else marks the
   * socket as not to be used again, and it closes as soon as that tenant is first in line.
   *
   * @returns true when the socket was still usable: the tenant let go of it normally
   */
  leave(lease: Lease, succeeded: boolean): boolean {
    const wasOpen = this.isOpen;
    if (!succeeded || !this.reuse) this.#retiring = true;
    if (succeeded && this.#line[0] === lease) this.#line.shift();
    if (this.#line[0]?.ended || (this.#retiring && this.#line.every((tenant) => tenant.ended))) this.retire();
    return wasOpen;
  }

  /** Closes the socket; the tenants still in line hear its close. */
  retire(): void {
    this.#stopExpiry();
    this.#retiring = true;
    this.#pool.forget(this);
    try {
      this.#socket.close(NORMAL_CLOSURE);
    } catch {
      // Closing can only fail on arguments we control.
    }
  }
}

/** One upload's use of a shared socket: what a transfer holds instead of a connection of its own. */
class Lease implements ConnectionLike {
  readonly handlers: ConnectionHandlers;
  readonly shared: boolean;
  readonly #socket: SharedSocket;
  readonly #pool: ConnectionPool;
  #answered = false;
  handedOver = false;
  ended = false;

  /** A close before any answer was not this upload's doing (see {@link unanswered}). */
  readonly #rejoinable: boolean;

  /**
   * @param shared - the socket carried an earlier upload
   * @param rejoinable - a close before any answer is another's doing: `shared`, or a socket opened ahead
   *   (the server may have closed it while it waited, e.g. for its AUTH timeout)
   */
  constructor(
    socket: SharedSocket,
    pool: ConnectionPool,
    handlers: ConnectionHandlers,
    shared: boolean,
    rejoinable: boolean,
  ) {
    this.#socket = socket;
    this.#pool = pool;
    this.handlers = handlers;
    this.shared = shared;
    this.#rejoinable = rejoinable;
  }

  get isOpen(): boolean {
    return !this.ended && this.#socket.isOpen;
  }

  get authenticated(): boolean {
    return this.#socket.authenticated;
  }

  get unanswered(): boolean {
    return this.#rejoinable && !this.#answered;
  }

  get knownTerms(): Terms | null {
    const terms = this.#socket.terms;
    return terms?.early ? terms : null;
  }

  deliver(event: MessageEvent): void {
    this.#answered = true;
    if (!this.ended) this.handlers.message(event);
  }

  send(data: OutgoingFrame): void {
    // After the hand-over the next upload's frames follow on the socket: nothing more of this one may.
    if (this.ended || this.handedOver) return;
    this.#socket.send(data);
  }

  trySend(data: string): void {
    try {
      this.send(data);
    } catch {
      // Best effort, as a connection's trySend.
    }
  }

  authenticate(): void {
    this.#socket.authenticated = true;
  }

  grantReuse(terms: Terms): void {
    this.#socket.reuse = true;
    this.#socket.terms = terms;
  }

  handOver(): void {
    if (this.ended || this.handedOver || !this.#socket.reuse) return;
    this.handedOver = true;
    this.#pool.countHandOver(1);
  }

  release(succeeded = false): boolean {
    if (this.ended) return false;
    this.ended = true;
    if (this.handedOver) this.#pool.countHandOver(-1);
    return this.#socket.leave(this, succeeded);
  }
}
