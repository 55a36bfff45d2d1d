// The real file store with a hook in front of each partial upload's commit and discard, for the tests of
// what happens while a FIN is being committed or an upload deleted: the hook can hold the commit at a gate
// (a slow disk, so that a takeover meets it half way) or throw (a disk that fails at the commit, a delete
// that fails). Everything else is FileStore's own.
import { FileStore, type PartialUpload, type UploadStore } from '../../src/server/index.ts';

/** Runs before a commit; a rejection is the commit's failure. */
export type CommitHook = (partial: PartialUpload) => Promise<void>;

export class CommitHookStore implements UploadStore {
  readonly inner: FileStore;
  /** Runs before each commit; by default lets it through. */
  beforeCommit: CommitHook = async () => undefined;
  /** Runs before each discard (ABOR, a dropped v1 upload, expiry by the session); by default lets it through. */
  beforeDiscard: CommitHook = async () => undefined;
  /** Runs before each open of an upload by id (a resume, an ABOR by id); a rejection is the open's failure. */
  beforeOpen: (id: string) => Promise<void> = async () => undefined;
  /** How many commits reached the real store. */
  commits = 0;
  // The same wrapper for the same upload, so that `held` and `hold()` act on one object whoever opens it.
  readonly #wrapped = new WeakMap<PartialUpload, PartialUpload>();

  constructor(dir: string) {
    this.inner = new FileStore({ dir });
  }

  async create(request: Parameters<UploadStore['create']>[0]): Promise<PartialUpload> {
    return this.#wrap(await this.inner.create(request));
  }

  async open(id: string): Promise<PartialUpload | undefined> {
    await this.beforeOpen(id);
    const partial = await this.inner.open(id);
    return partial && this.#wrap(partial);
  }

  expire(now: number): Promise<number> {
    return this.inner.expire(now);
  }

  remember(...args: Parameters<FileStore['remember']>): Promise<void> {
    return this.inner.remember(...args);
  }

  recall(id: string) {
    return this.inner.recall(id);
  }

  #wrap(partial: PartialUpload): PartialUpload {
    const known = this.#wrapped.get(partial);
    if (known) return known;
    // A Proxy rather than a copy: the file store's partial upload keeps its state in #private fields, so
    // every other member is the real one, called on the real object.
    const wrapper = new Proxy(partial, {
      get: (target, key) => {
        if (key === 'commit') {
          return async () => {
            await this.beforeCommit(target);
            this.commits += 1;
            return target.commit();
          };
        }
        if (key === 'discard') {
          return async () => {
            await this.beforeDiscard(target);
            return target.discard();
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
      set: (target, key, value) => Reflect.set(target, key, value, target),
    });
    this.#wrapped.set(partial, wrapper);
    return wrapper;
  }
}

/** A gate a hook waits at until the test opens it; `reached` resolves when the first waiter arrived. */
export function gate(): { wait: () => Promise<void>; open: () => void; reached: Promise<void> } {
  let open!: () => void;
  let arrived!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  return {
    wait: () => (arrived(), opened),
    open,
    reached,
  };
}
