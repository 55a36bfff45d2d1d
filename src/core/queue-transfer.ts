/**
 * A queued file's transfer: its options (the queue's, the folder it came from, the token provider's token,
 * what `prepare` gave), whether it shares the queue's sockets, and its start with the queue's login. The
 * queue owns when a file starts and what its transfer's events do to the item. The queue loads this module
 * with import() (transfer-module.ts), so everything it imports is what the queue needs only
 * once a file is sent; the pool's class comes from here for the same reason.
 */
import { ConnectionPool } from './connection-pool.ts';
import { Credentials } from './credentials.ts';
import { browserEnvironment } from './environment.ts';
import { UploadError } from './errors.ts';
import type { WebSocketFileTransferOptions } from './options.ts';
import type { Entry } from './queue-items.ts';
import { transferOptionsFor, type ResolvedQueueOptions } from './queue-options.ts';
import { mayPreconnect } from './transfer-module.ts';
import { tokenSource } from './queue-prepare.ts';
import { WebSocketFileTransfer } from './web-socket-file-transfer.ts';

export { ConnectionPool };

/** A file's new transfer, and whether a 401 may be met by asking for a fresh token; or why there is none. */
export type NewTransfer =
  { ok: true; transfer: WebSocketFileTransfer; refreshable: boolean } | { ok: false; error: UploadError };

/**
 * Creates (does not start) the transfer of a file.
 *
 * @param options - the queue's options
 * @param pool - the sockets the queue's files share
 * @param entry - the file's item
 * @param prepared - what `prepare` gave for this file
 */
export function transferFor(
  options: ResolvedQueueOptions,
  pool: ConnectionPool,
  entry: Entry,
  prepared: Partial<WebSocketFileTransferOptions>,
): NewTransfer {
  const { auth } = options;
  const provider = auth && 'token' in auth && typeof auth.token === 'function' ? auth.token : null;
  const token = provider ? tokenSource(provider, entry, entry.refreshed) : undefined;
  const perFile = { ...(entry.path ? { path: entry.path } : {}), ...(token ? { token } : {}), ...prepared };
  try {
    // A provider's token is per file (it is told the file): such a file gets its own socket and AUTH.
    const shared = options.shareConnections && !provider ? { connections: pool } : {};
    const transfer = new WebSocketFileTransfer({
      ...transferOptionsFor(options, entry.file, perFile),
      ...shared,
    });
    return { ok: true, transfer, refreshable: provider !== null || perFile.token !== undefined };
  } catch (cause) {
    // No url yet (or a URL the transfer refuses): this file fails with a message naming it, not the page.
    const message = cause instanceof Error ? cause.message : String(cause);
    return { ok: false, error: new UploadError('connectionFailed', message, { cause }) };
  }
}

/**
 * Starts a transfer, with the queue's login when it has one (a token goes in the transfer's options).
 *
 * @param transfer - the transfer, its listeners added
 * @param auth - the queue's `auth`
 */
export function startTransfer(transfer: WebSocketFileTransfer, auth: ResolvedQueueOptions['auth']): void {
  const credentials = auth && 'login' in auth ? auth : null;
  if (credentials) transfer.start(credentials.login, credentials.password ?? '');
  else transfer.start();
}

/**
 * Opens a shared socket ahead of the queue's uploads (ConnectionPool.preconnect) under the identity its files
 * will lease sockets with, when they share sockets at all.
 *
 * @param options - the queue's options
 * @param pool - the sockets the queue's files share
 * @param idleMs - how long the socket waits for an upload (default: the pool's)
 * @returns whether a socket was opened now
 */
export function preconnectFor(options: ResolvedQueueOptions, pool: ConnectionPool, idleMs?: number): boolean {
  const { url, auth } = options;
  if (!url || !mayPreconnect(options)) return false;
  const credentials =
    auth && 'login' in auth
      ? new Credentials(auth.login, auth.password ?? '')
      : new Credentials(
          undefined,
          undefined,
          auth && typeof auth.token === 'string' ? auth.token : undefined,
        );
  // The key a transfer leases with (WebSocketFileTransfer#connect): its AUTH frame, or '' without one.
  const identity = credentials.present ? (credentials.lastFrame ?? '') : '';
  return pool.preconnect(browserEnvironment(options.WebSocket), url, identity, idleMs);
}
