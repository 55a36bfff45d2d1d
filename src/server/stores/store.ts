/**
 * What a session needs from storage. The session never touches the filesystem itself: it writes through a
 * {@link PartialUpload} and commits it, so another store (object storage) can take the file store's place.
 */
export interface UploadStore {
  /**
   * Starts a partial upload that nobody can mistake for a finished file.
   *
   * @param request - the sanitised name, the declared size, and an optional sub-folder (one sanitised
   *   segment, e.g. the user's) the file is to land in
   * @returns a handle to write into
   */
  create(request: { filename: string; size: number; folder?: string }): Promise<PartialUpload>;
}

/** An upload in progress: bytes appended in order, then committed or discarded. */
export interface PartialUpload {
  /** Bytes durably handed to the store so far. */
  readonly offset: number;
  /** Appends bytes at the current offset. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Flushes, then moves the file into its final place atomically, never over an existing file.
   *
   * @returns the final name, relative to the upload folder
   */
  commit(): Promise<string>;
  /** Removes the partial data; safe to call more than once and after a failed commit. */
  discard(): Promise<void>;
}
