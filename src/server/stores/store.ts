/**
 * What a session needs from storage. The session never touches the filesystem itself: it writes through a
 * {@link PartialUpload} and commits it, so another store (object storage) can take the file store's place.
 */
export interface UploadStore {
  /**
   * Starts a partial upload that nobody can mistake for a finished file.
   *
   * @param request - the sanitised name, the declared size, an optional sub-folder (sanitised segments
   *   joined by `/`: the user's folder, the folders the file came from) the file is to land in, `resumable` to keep it (with its metadata) across
   *   connections and restarts until it expires (protocol v2), and `sha256: false` when no checksum was
   *   agreed: the store may then skip the running hash (`sha256()` must still answer, e.g. by reading back)
   * @returns a handle to write into
   */
  create(request: {
    filename: string;
    size: number;
    folder?: string;
    /** The MIME type the client declared, for stores that keep it (S3's Content-Type). */
    type?: string;
    resumable?: ResumableRequest;
    sha256?: boolean;
  }): Promise<PartialUpload>;
  /**
   * Finds a resumable partial upload by id, in memory or (after a restart) from what the store persisted.
   * Optional: a store without it cannot resume, and a server then answers every resume with 404.
   *
   * @param id - the id from {@link PartialUpload.id}
   * @returns the partial upload, or undefined when it is unknown or expired
   */
  open?(id: string): Promise<PartialUpload | undefined>;
  /**
   * Deletes resumable partial uploads whose expiry passed and that no connection holds. Optional.
   *
   * @param now - the current time in ms since the epoch
   * @returns how many were deleted
   */
  expire?(now: number): Promise<number>;
  /**
   * Keeps the record of a committed resumable upload until it expires, so that a client whose FIN answer was
   * lost learns it succeeded even after a restart. Optional: without it the record lives in memory only.
   *
   * @param id - the upload's id
   * @param record - what the FIN answer said, and who may ask
   */
  remember?(id: string, record: CompletedUpload): Promise<void>;
  /**
   * The record {@link UploadStore.remember} kept for `id`, or undefined when there is none or it expired.
   *
   * @param id - the id a client resumes with
   */
  recall?(id: string): Promise<CompletedUpload | undefined>;
  /**
   * The least byte credit a client needs for acknowledgements to keep coming: a store that acknowledges in
   * large units (S3: once per part) needs more in flight than the server's floor. Optional.
   */
  readonly minCredit?: number;
}

/** A committed resumable upload, as remembered for a client that lost the FIN answer. */
export interface CompletedUpload {
  size: number;
  /** The name it was stored under, relative to the upload folder (what the FIN answer said). */
  filename: string;
  /** `sha256:<base64>` of the whole file when a checksum was agreed and checked. */
  checksum: string | undefined;
  /** `sha256-blocks:<base64>` when block integrity was agreed: the content hash the client's FIN carried. */
  contentHash?: string;
  owner: string | null;
  expiresAt: number;
}

/** How a resumable partial upload is kept. */
export interface ResumableRequest {
  /** Who may resume it: a user the authenticate hook identified, or null when anyone holding the id may. */
  owner: string | null;
  /** Milliseconds of inactivity after which it expires. */
  ttl: number;
}

/** An upload in progress: bytes appended in order, then committed or discarded. */
export interface PartialUpload {
  /** An unguessable id: for a resumable upload, the capability a client resumes it with. */
  readonly id: string;
  /** The declared size. */
  readonly size: number;
  /** The sanitised final name it will be committed under. */
  readonly filename: string;
  /** Who may resume it (see {@link ResumableRequest.owner}); null for anyone with the id. */
  readonly owner: string | null;
  /** Bytes durably handed to the store so far. */
  readonly offset: number;
  /** When it expires if nobody continues it (ms since the epoch); Infinity when not resumable. */
  readonly expiresAt: number;
  /** Whether a live connection is writing into it (see {@link PartialUpload.hold}). */
  readonly held: boolean;
  /** Marks it as taken by one connection, so that a second one is refused with 409. */
  hold(): void;
  /**
   * The connection let go of it: it stays for a later resume until it expires, and its metadata is saved.
   */
  release(): Promise<void>;
  /** Appends bytes at the current offset. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * For a store whose `write` only takes the bytes in (S3 fills a part in memory first): resolves once the
   * bytes below `offset` are durably stored — under block integrity the verified ones (an unverified block
   * is never stored) — and rejects when storing them failed. The session sends an ack only then. Optional:
   * without it, bytes are stored when `write` resolves.
   */
  durable?(offset: number): Promise<void>;
  /**
   * Block integrity was agreed (`verified` tells where the verified bytes end, asked when needed), or not
   * (null), for the connection that holds the upload now. Optional: for a store that must not store
   * unverified bytes at all (S3 cannot write a stored part again).
   */
  gateOnVerified?(verified: (() => number) | null): void;
  /**
   * Block integrity: bytes below this offset were checked against the client's block digests (by an earlier
   * connection, or before a restart). Kept with the upload's metadata when the connection lets it go.
   * Optional, with {@link PartialUpload.rewrite} and {@link PartialUpload.truncate}: a store without them is
   * granted `sha256` at most.
   */
  verifiedOffset?: number;
  /**
   * Writes bytes again at `position` (a block that arrived damaged), below the current offset; the running
   * SHA-256 is then recomputed from storage when asked for.
   */
  rewrite?(position: number, bytes: Uint8Array): Promise<void>;
  /** Drops the bytes from `offset` on (not verified, so a resume sends them again). */
  truncate?(offset: number): Promise<void>;
  /**
   * Makes {@link PartialUpload.verifiedOffset} survive a crash: the bytes below it reach the disk first, then
   * the offset is recorded. Optional; without it the offset is kept only when the connection lets go.
   */
  checkpoint?(): Promise<void>;
  /**
   * The SHA-256 of the bytes [0, offset), kept incrementally while writing (re-read from storage once after a
   * restart, since a hash state cannot be saved, or when it was created with `sha256: false`).
   *
   * @returns the 32-byte digest
   */
  sha256(): Promise<Uint8Array>;
  /**
   * Flushes, then moves the file into its final place atomically, never over an existing file.
   *
   * @returns the final name, relative to the upload folder
   */
  commit(): Promise<string>;
  /** Removes the partial data; safe to call more than once and after a failed commit. */
  discard(): Promise<void>;
}
