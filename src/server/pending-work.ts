import type { PartialUpload, UploadStore } from './stores/store.ts';

/**
 * Wraps a store so that every storage operation still running can be awaited. A session cleans up after a
 * closed connection asynchronously (it discards the partial upload, or finishes a commit that was under
 * way); on shutdown the server must wait for that work, or the process exits with half-written partials
 * left behind.
 */
export class PendingWork {
  /** The store to hand to sessions. */
  readonly store: UploadStore;
  readonly #pending = new Set<Promise<unknown>>();

  /** @param store - the store to watch */
  constructor(store: UploadStore) {
    const create: UploadStore['create'] = (request) =>
      this.#track(store.create(request)).then((partial) => this.#wrap(partial));
    // Resumed partial uploads are tracked like new ones: their writes and commits also hold up a shutdown.
    const open = (id: string) =>
      this.#track(store.open!(id)).then((partial) => (partial ? this.#wrap(partial) : undefined));
    const track = <T>(operation: T): T =>
      operation instanceof Promise ? (this.#track(operation) as T) : operation;
    // A proxy rather than a literal: methods a store adds later still reach it, bound to the store itself so
    // that its #private fields work, and the promises they return (the sweep, keeping the record of a
    // committed upload) hold up a shutdown like writes do. Only `create` and `open` hand out partial uploads.
    this.store = new Proxy(store, {
      get(target, property) {
        if (property === 'create') return create;
        if (property === 'open' && target.open) return open;
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => track((value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
  }

  /** Resolves once no storage operation is running, including those started while waiting. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #track<T>(operation: Promise<T>): Promise<T> {
    this.#pending.add(operation);
    const forget = () => this.#pending.delete(operation);
    operation.then(forget, forget);
    return operation;
  }

  /** One wrapper per partial upload, so that a resume on this server meets the same object again. */
  readonly #wrappers = new WeakMap<PartialUpload, PartialUpload>();

  #wrap(partial: PartialUpload): PartialUpload {
    let wrapper = this.#wrappers.get(partial);
    if (!wrapper) this.#wrappers.set(partial, (wrapper = this.#wrapOnce(partial)));
    return wrapper;
  }

  #wrapOnce(partial: PartialUpload): PartialUpload {
    const track = <T>(operation: Promise<T>) => this.#track(operation);
    const { rewrite, truncate, checkpoint, durable, gateOnVerified } = partial;
    return {
      get id() {
        return partial.id;
      },
      get size() {
        return partial.size;
      },
      get filename() {
        return partial.filename;
      },
      get owner() {
        return partial.owner;
      },
      get offset() {
        return partial.offset;
      },
      get expiresAt() {
        return partial.expiresAt;
      },
      get held() {
        return partial.held;
      },
      get verifiedOffset() {
        return partial.verifiedOffset;
      },
      set verifiedOffset(offset) {
        partial.verifiedOffset = offset;
      },
      ...(rewrite && truncate
        ? {
            rewrite: (position: number, bytes: Uint8Array) => track(rewrite.call(partial, position, bytes)),
            truncate: (offset: number) => track(truncate.call(partial, offset)),
          }
        : {}),
      ...(checkpoint ? { checkpoint: () => track(checkpoint.call(partial)) } : {}),
      ...(durable ? { durable: (offset: number) => track(durable.call(partial, offset)) } : {}),
      ...(gateOnVerified
        ? { gateOnVerified: (verified: (() => number) | null) => gateOnVerified.call(partial, verified) }
        : {}),
      hold: () => partial.hold(),
      release: () => track(partial.release()),
      write: (chunk) => track(partial.write(chunk)),
      sha256: () => partial.sha256(),
      commit: () => track(partial.commit()),
      discard: () => track(partial.discard()),
    };
  }
}
