/**
 * The connection: one WebSocket, attached to the transfer's handlers and released in one place. Releasing
 * detaches the handlers first — once a transfer ended, its socket may still report an error or a close (the
 * 2012 PHP server's masked close frame does, right after the last answer), and detaching is what makes those
 * harmless — then closes the socket normally if it is still open, and says whether it did, for the `close`
 * event's detail. Also the short-lived side connection that carries an ABOR when no socket is open.
 */
import type { Terms } from '../protocol/index.ts';
import type { CloseDetail } from './events.ts';
import type { Failure } from './conversation.ts';
import type { TransferEnvironment } from './environment.ts';
import type { BinaryPayload } from './file-source.ts';

/** What goes on the socket: a text frame, or the bytes of a binary one. */
export type OutgoingFrame = string | BinaryPayload;

/** The one close code a browser script may always send; the server reads it as "done, normally". */
export const NORMAL_CLOSURE = 1000;
/** What browsers report when a connection ends without a close frame. */
export const ABNORMAL_CLOSURE = 1006;
// WebSocket.CONNECTING and WebSocket.OPEN, as numbers: the global WebSocket may be absent or a test double.
const CONNECTING = 0;
const OPEN = 1;
/** How long the side connection that carries an ABOR may take before it is given up. */
const ABOR_ASIDE_TIMEOUT = 5000;
/**
 * Waits before sending ABOR again after a 409: the upload's last connection (just closed by a pause, or a
 * cut) may not be released on the server yet. Bounded in count, and by ABOR_ASIDE_TIMEOUT in time.
 */
const ABOR_CONFLICT_DELAYS = [100, 250, 500, 1000];

/** The transfer's side of a socket's events. */
export interface ConnectionHandlers {
  open(): void;
  message(event: MessageEvent): void;
  error(): void;
  close(event: CloseEvent): void;
}

/** How a socket closed, as the `close` event tells it (without the file). */
export type ClosedHow = Omit<CloseDetail, 'file'>;

/**
 * What a transfer holds to talk to the server: a {@link Connection} of its own, or a lease of a socket shared
 * with the queue's other uploads (connection-pool.ts). The sharing hooks are no-ops on a connection of its own.
 */
export interface ConnectionLike {
  /** Whether frames can be sent now. */
  readonly isOpen: boolean;
  /** The socket carried an earlier upload. */
  readonly shared: boolean;
  /** AUTH was already accepted on this socket: the upload does not send it again. */
  readonly authenticated: boolean;
  /**
   * On a shared socket, or one opened ahead of it (preconnect), no answer reached this upload yet (its STOR is
   * still unanswered): a close now was not its doing, and it starts over on a fresh socket.
   */
  readonly unanswered: boolean;
  /** The terms the previous upload on this socket was granted, when they include `early`; else null. */
  readonly knownTerms: Terms | null;
  /** Sends a frame; throws whatever `WebSocket.send` throws. */
  send(data: OutgoingFrame): void;
  /** Sends a frame if it can; never throws. */
  trySend(data: string): void;
  /** The server accepted AUTH on this socket. */
  authenticate(): void;
  /** The server granted `reuse` (in these terms): another STOR may follow this upload's FIN. */
  grantReuse(terms: Terms): void;
  /** This upload sent its FIN: the next one may send its STOR behind it. */
  handOver(): void;
  /**
   * Lets go of the socket (detaching the transfer's handlers first).
   *
   * @param succeeded - the upload was stored (a shared socket may then carry the next one)
   * @returns true when the socket was still open and this call let go of it normally
   */
  release(succeeded?: boolean): boolean;
}

/** One attached socket, for one upload. */
export class Connection implements ConnectionLike {
  readonly shared = false;
  readonly authenticated = false;
  readonly unanswered = false;
  readonly knownTerms = null;
  readonly #socket: WebSocket;
  #detach: (() => void) | null;

  /**
   * Attaches `handlers` to a socket (binary frames arrive as ArrayBuffers).
   *
   * @param socket - a new WebSocket
   * @param handlers - the transfer's handlers
   */
  constructor(socket: WebSocket, handlers: ConnectionHandlers) {
    this.#socket = socket;
    socket.binaryType = 'arraybuffer';
    const onOpen = (): void => handlers.open();
    const onMessage = (event: MessageEvent): void => handlers.message(event);
    const onError = (): void => handlers.error();
    const onClose = (event: CloseEvent): void => handlers.close(event);
    socket.addEventListener('open', onOpen);
    socket.addEventListener('message', onMessage);
    socket.addEventListener('error', onError);
    socket.addEventListener('close', onClose);
    this.#detach = () => {
      socket.removeEventListener('open', onOpen);
      socket.removeEventListener('message', onMessage);
      socket.removeEventListener('error', onError);
      socket.removeEventListener('close', onClose);
    };
  }

  /** Whether frames can be sent now. */
  get isOpen(): boolean {
    return this.#socket.readyState === OPEN;
  }

  /**
   * Sends a frame.
   *
   * @param data - text or binary
   * @throws whatever `WebSocket.send` throws
   */
  send(data: OutgoingFrame): void {
    this.#socket.send(data);
  }

  /** Sends a frame if it can; never throws (for best-effort frames such as ABOR). */
  trySend(data: string): void {
    trySend(this.#socket, data);
  }

  /** A socket of its own is authenticated by its one upload, and never shared or handed over. */
  authenticate(): void {}
  grantReuse(): void {}
  handOver(): void {}

  /**
   * Detaches the handlers, then closes the socket normally if it is still connecting or open.
   *
   * @returns true when this call closed the socket
   */
  release(): boolean {
    this.#detach?.();
    this.#detach = null;
    const socket = this.#socket;
    if (socket.readyState !== CONNECTING && socket.readyState !== OPEN) return false;
    try {
      socket.close(NORMAL_CLOSURE);
    } catch {
      // Closing can only fail on arguments we control; there is nothing left to release either way.
    }
    return true;
  }
}

/**
 * Opens a socket to `url` and attaches `handlers`, or says why it cannot.
 *
 * @param env - where the WebSocket constructor comes from
 * @param url - the upload server
 * @param handlers - the transfer's handlers
 * @returns the connection, or the failure to report (`notSupported`, `connectionFailed`)
 */
export function openConnection(
  env: TransferEnvironment,
  url: string,
  handlers: ConnectionHandlers,
): Connection | Failure {
  const WebSocketCtor = env.webSocket();
  if (!WebSocketCtor || !canUpload(WebSocketCtor)) {
    return {
      code: 'notSupported',
      message: 'This browser cannot upload over a WebSocket (WebSocket or Blob reading is missing).',
      init: {},
    };
  }
  try {
    return new Connection(new WebSocketCtor(url), handlers);
  } catch (cause) {
    return {
      code: 'connectionFailed',
      message: `Cannot connect to ${url}: ${String(cause)}`,
      init: { cause },
    };
  }
}

/**
 * Tells whether a host can run a transfer.
 *
 * @param WebSocketCtor - the WebSocket constructor to check
 * @returns true when WebSocket, `Blob.prototype.slice` and `Blob.prototype.arrayBuffer` are present
 */
export function canUpload(WebSocketCtor: unknown): boolean {
  return (
    typeof WebSocketCtor === 'function' &&
    typeof Blob === 'function' &&
    typeof Blob.prototype.slice === 'function' &&
    typeof Blob.prototype.arrayBuffer === 'function'
  );
}

/**
 * What the `close` event says when the transfer ended: how the socket closed when that ended it, else a
 * normal closure when the transfer closed it, else an abnormal one (it was already gone).
 *
 * @param closedHere - from {@link Connection.release}
 * @param closed - the socket's own close, when that is what ended the transfer
 * @returns the detail, without the file
 */
export function closeDetail(closedHere: boolean, closed?: ClosedHow): ClosedHow {
  if (closed) return closed;
  return closedHere
    ? { code: NORMAL_CLOSURE, reason: '', wasClean: true }
    : { code: ABNORMAL_CLOSURE, reason: '', wasClean: false };
}

/**
 * Carries an ABOR on a short-lived socket of its own (after AUTH when there are credentials), for a cancel
 * while no connection is open (a paused or reconnecting upload). Sent again, a few times, while the server
 * answers 409 (the upload's last connection not released yet). Best effort: the server expires it anyway.
 *
 * @param env - where the WebSocket and timers come from
 * @param url - the upload server
 * @param frames - the frames to send once open (AUTH, then ABOR)
 */
export function sendAside(env: TransferEnvironment, url: string, frames: readonly string[]): void {
  const WebSocketCtor = env.webSocket();
  if (!WebSocketCtor) return;
  try {
    const socket = new WebSocketCtor(url);
    const giveUp = env.setTimeout(() => socket.close(), ABOR_ASIDE_TIMEOUT);
    socket.addEventListener('open', () => {
      for (const frame of frames) trySend(socket, frame);
    });
    let conflicts = 0;
    socket.addEventListener('message', (event: MessageEvent) => {
      if (typeof event.data !== 'string' || !event.data.includes('"ABOR"')) return;
      // 409: still held by the connection that just closed; ask again once the server let go of it.
      const delay = /"code"\s*:\s*409\b/.test(event.data) ? ABOR_CONFLICT_DELAYS[conflicts++] : undefined;
      if (delay !== undefined) {
        env.setTimeout(() => trySend(socket, frames[frames.length - 1]!), delay);
        return;
      }
      env.clearTimeout(giveUp);
      socket.close(NORMAL_CLOSURE);
    });
    socket.addEventListener('error', () => env.clearTimeout(giveUp));
  } catch {
    // Best effort, as above.
  }
}

/**
 * Sends ABOR on the open connection, else on a short-lived one of its own. The server handles frames in
 * order, so ABOR just before the close is enough.
 *
 * @param connection - the transfer's connection, if any
 * @param env - where a WebSocket comes from for the side connection
 * @param url - the upload server
 * @param abor - the ABOR frame
 * @param auth - the AUTH frame to send first on a side connection, or null
 */
export function sendAbor(
  connection: ConnectionLike | null,
  env: TransferEnvironment,
  url: string,
  abor: string,
  auth: string | null,
): void {
  if (connection?.isOpen) connection.trySend(abor);
  else sendAside(env, url, auth === null ? [abor] : [auth, abor]);
}

function trySend(socket: WebSocket, data: string): void {
  try {
    socket.send(data);
  } catch {
    // Best effort, as above.
  }
}
