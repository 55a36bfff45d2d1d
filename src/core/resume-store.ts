/**
 * What the client keeps to resume an upload after a dropped connection or a page reload: the server's upload
 * id and the offset the server acknowledged. No hash state: under block integrity the server continues at
 * its last verified block, and only the blocks from there are hashed (a record an older version wrote with
 * a `hashState` is still read; the field is ignored).
 */
export interface ResumeRecord {
  /** The upload id from the server's v2 STOR answer. */
  id: string;
  /** Bytes the server acknowledged when the record was written. */
  offset: number;
  /** When the server drops the partial upload (ms since the epoch); the record is useless after it. */
  expires: number;
}

/**
 * Where resume records live, keyed by a file fingerprint (see {@link fingerprint}). A port, as in
 * tus-js-client: the default is {@link LocalResumeStore}, and {@link NullResumeStore} where storage is missing.
 */
export interface ResumeStore {
  /**
   * @param key - a fingerprint
   * @returns the record, or null when there is none (or it cannot be read)
   */
  get(key: string): ResumeRecord | null;
  /**
   * @param key - a fingerprint
   * @param record - what to keep
   */
  set(key: string, record: ResumeRecord): void;
  /** @param key - a fingerprint whose record is no longer useful */
  remove(key: string): void;
}

/** Keeps nothing: an upload then resumes only within one page load. */
export class NullResumeStore implements ResumeStore {
  /** @returns always null */
  get(): ResumeRecord | null {
    return null;
  }
  /** Does nothing. */
  set(): void {}
  /** Does nothing. */
  remove(): void {}
}

const PREFIX = 'ws-file-upload:';

/**
 * Keeps records in `localStorage`. Every access is guarded: storage may be full, disabled or throw in a
 * private window, and resuming is a bonus, never a reason for an upload to fail.
 */
export class LocalResumeStore implements ResumeStore {
  readonly #storage: Storage;

  /** @param storage - a `Storage` (default `localStorage`) */
  constructor(storage: Storage = globalThis.localStorage) {
    this.#storage = storage;
  }

  /** @inheritdoc */
  get(key: string): ResumeRecord | null {
    try {
      const text = this.#storage.getItem(PREFIX + key);
      if (text === null) return null;
      const record = JSON.parse(text) as Partial<ResumeRecord>;
      if (
        typeof record.id !== 'string' ||
        typeof record.offset !== 'number' ||
        typeof record.expires !== 'number'
      ) {
        return null;
      }
      return { id: record.id, offset: record.offset, expires: record.expires };
    } catch {
      return null;
    }
  }

  /** @inheritdoc */
  set(key: string, record: ResumeRecord): void {
    try {
      this.#storage.setItem(PREFIX + key, JSON.stringify(record));
    } catch {
      // Quota or privacy mode: the upload goes on without a record.
    }
  }

  /** @inheritdoc */
  remove(key: string): void {
    try {
      this.#storage.removeItem(PREFIX + key);
    } catch {
      // As in set().
    }
  }
}

/** The storage that passed the probe of {@link defaultResumeStore}, and the store over it. */
let probed: { storage: Storage; store: LocalResumeStore } | null = null;

/**
 * The store used when the caller gives none: `localStorage` when it works, else a {@link NullResumeStore}.
 *
 * @returns a resume store
 */
export function defaultResumeStore(): ResumeStore {
  try {
    const storage = globalThis.localStorage;
    if (!storage) return new NullResumeStore();
    // Every transfer asks for its store when it is created, and a probe is two storage writes: a storage that
    // worked once is not probed again (a LocalResumeStore guards every access anyway). One that failed is,
    // since quota may have been freed.
    if (probed?.storage === storage) return probed.store;
    const probe = `${PREFIX}probe`;
    storage.setItem(probe, '1');
    storage.removeItem(probe);
    probed = { storage, store: new LocalResumeStore(storage) };
    return probed.store;
  } catch {
    return new NullResumeStore();
  }
}

/**
 * Identifies "the same file to the same server" across page loads: name, type, size and lastModified of the
 * file, and the URL. A file picked again after a reload has the same fingerprint.
 *
 * @param file - the file (a nameless Blob uses empty name and 0 as lastModified)
 * @param url - the upload URL
 * @returns a string key
 */
export function fingerprint(file: Blob, url: string): string {
  const named = file as Partial<File>;
  return JSON.stringify([named.name ?? '', file.type, file.size, named.lastModified ?? 0, url]);
}
