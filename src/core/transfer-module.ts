/**
 * Owns the lazy load of queue-transfer.ts: a file's WebSocketFileTransfer and through it all the code that
 * speaks to the server. It is a separate module load (a chunk of its own in the CDN bundle) so that a page
 * that shows the element but has not sent a file yet does not pay for the network half of the core;
 * `UploadQueue.preload` asks for it ahead (the element does in idle time), so the first file does not wait.
 */
import type { ConnectionPool } from './connection-pool.ts';
import type { ResolvedQueueOptions } from './queue-options.ts';

/** queue-transfer.ts's exports. */
export type TransferModule = typeof import('./queue-transfer.ts');

let transferModule: Promise<TransferModule> | null = null;
let loaded: TransferModule | null = null;

/**
 * Loads queue-transfer.ts, once per page. A load that failed (a network error fetching the chunk) is tried
 * again on the next call.
 */
export function loadTransferModule(): Promise<TransferModule> {
  transferModule ??= import('./queue-transfer.ts').then(
    (module) => (loaded = module),
    (cause: unknown) => {
      transferModule = null;
      throw cause;
    },
  );
  return transferModule;
}

/** The module once loaded: from then on a file without a `prepare` hook starts at once, as it did before. */
export function loadedTransferModule(): TransferModule | null {
  return loaded;
}

/**
 * Whether the queue's options let it open a socket ahead of its files: a `url`, shared sockets, and no token
 * provider (whose files each get their own socket and AUTH, queue-transfer.ts transferFor). Decided here, not
 * in queue-transfer.ts, so that it needs no load.
 */
export function mayPreconnect({ url, auth, shareConnections }: ResolvedQueueOptions): boolean {
  return Boolean(url) && shareConnections && !(auth && 'token' in auth && typeof auth.token === 'function');
}

/**
 * A queue's sockets (connection-pool.ts) before and after queue-transfer.ts is loaded: the pool is made with
 * the loaded module's class on first use, and a preconnect asked for while the module loads opens its socket
 * once it is there.
 */
export class LazyPool {
  #pool: ConnectionPool | null = null;
  #preconnectPending = false;

  /** @param onHandOver - called when a file sent its FIN and so freed its slot on a socket */
  constructor(private readonly onHandOver: () => void) {}

  /** Files whose FIN is on its way: they hold no slot. */
  get handedOver(): number {
    return this.#pool?.handedOver ?? 0;
  }

  /** Closes the sockets no file uses (the queue went idle). */
  closeIdle(): void {
    this.#pool?.closeIdle();
  }

  /** The pool, made with the loaded module's class the first time. */
  from({ ConnectionPool }: TransferModule): ConnectionPool {
    if (!this.#pool) {
      this.#pool = new ConnectionPool();
      this.#pool.onHandOver = this.onHandOver;
    }
    return this.#pool;
  }

  /** UploadQueue.preconnect: true when a socket opens now, or once the module has loaded. */
  preconnect(options: () => ResolvedQueueOptions, idleMs?: number): boolean {
    const module = loaded;
    if (module) return module.preconnectFor(options(), this.from(module), idleMs);
    if (this.#preconnectPending || !mayPreconnect(options())) return false;
    this.#preconnectPending = true;
    loadTransferModule().then(
      (module) => {
        this.#preconnectPending = false;
        module.preconnectFor(options(), this.from(module), idleMs);
      },
      () => (this.#preconnectPending = false),
    );
    return true;
  }
}
