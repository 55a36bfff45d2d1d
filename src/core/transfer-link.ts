/**
 * The transfer's hold on the server: the connection it talks over now — a socket of its own, or a lease of a
 * socket shared through the queue's pool (connection-pool.ts) — the generation that tells work begun for an
 * older socket from the current one's, and the rule for a shared socket that closed under an unanswered
 * STOR (rejoin a fresh one: the close was another upload's doing). The transfer decides when; this holds what.
 */
import {
  openConnection,
  type ConnectionHandlers,
  type ConnectionLike,
  type OutgoingFrame,
} from './connection.ts';
import type { ConnectionPool } from './connection-pool.ts';
import type { Failure } from './conversation.ts';
import type { TransferEnvironment } from './environment.ts';

/** How many times an upload starts again on a fresh socket at once (see {@link TransferLink.mayStartOver}). */
export const MAX_REJOINS = 3;

/** One transfer's current connection. */
export class TransferLink {
  readonly #env: TransferEnvironment;
  readonly #url: string;
  readonly #pool: ConnectionPool | null;
  readonly #handlers: ConnectionHandlers;
  #connection: ConnectionLike | null = null;
  #generation = 0;
  #rejoins = MAX_REJOINS;

  /**
   * @param env - where sockets come from
   * @param url - the upload server
   * @param pool - the pool to lease sockets from, or null for a socket of its own
   * @param handlers - the transfer's handlers
   */
  constructor(
    env: TransferEnvironment,
    url: string,
    pool: ConnectionPool | null,
    handlers: ConnectionHandlers,
  ) {
    this.#env = env;
    this.#url = url;
    this.#pool = pool;
    this.#handlers = handlers;
  }

  /** The connection now, or null between connections. */
  get connection(): ConnectionLike | null {
    return this.#connection;
  }

  /** Bumped on every (re)connection, so that work begun for an older socket stops when it resumes. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Opens a socket of its own, or leases one from the pool.
   *
   * @param auth - the AUTH frame the upload sends ('' without credentials): a pool shares sockets per identity
   * @returns null, or the failure to report
   */
  connect(auth: string): Failure | null {
    this.#generation += 1;
    const opened = this.#pool
      ? this.#pool.lease(this.#env, this.#url, auth, this.#handlers)
      : openConnection(this.#env, this.#url, this.#handlers);
    if ('code' in opened) return opened;
    this.#connection = opened;
    return null;
  }

  /**
   * Sends a frame on the current connection.
   *
   * @throws whatever `WebSocket.send` throws, or when there is no connection
   */
  send(data: OutgoingFrame): void {
    if (!this.#connection) throw new Error('No connection.');
    this.#connection.send(data);
  }

  /**
   * Lets go of the connection.
   *
   * @param succeeded - the upload was stored (a shared socket may carry the next one)
   * @returns whether this call let go of an open socket normally
   */
  release(succeeded = false): boolean {
    const closedHere = this.#connection?.release(succeeded) ?? false;
    this.#connection = null;
    return closedHere;
  }

  /**
   * Whether the upload may start over on a fresh socket once more; counts the try. It does when a shared
   * socket closed before its STOR was answered (another upload's failure retired it), or when the server did
   * not take the early data the page's memory sent on a fresh one.
   */
  mayStartOver(): boolean {
    if (this.#rejoins <= 0) return false;
    this.#rejoins -= 1;
    return true;
  }
}
