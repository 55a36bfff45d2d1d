/**
 * The contract between a session and its server: what a session reports (a file stored, a failure, an
 * authenticated user, how an AUTH ended for the throttle), what it asks (admission of each STOR, whether an
 * AUTH may be tried now) and what it shares with the other sessions of the server (the store, the server's
 * records, the holders of resumable uploads). The server's ConnectionGuard implements the events.
 */
import type { CreditBudget } from './credit-grant.ts';
import type { RefusalDetail } from './refusal.ts';
import type { UploadStore } from './stores/store.ts';
import type { UploadHolders } from './upload-holders.ts';
import type { UploadRecords } from './upload-records.ts';

/** What the server learns when a file is in its final place. */
export interface StoredFile {
  /** Final name inside the upload folder. */
  filename: string;
  /** The name the client asked for. */
  requestedName: string;
  size: number;
  parameters: unknown;
  /** Milliseconds from STOR to commit. */
  duration: number;
}

/**
 * A STOR as the server's admission checks (limits, `accept` hook, disk floor) see it: what the session
 * knows of the file. The `accept` hook's FileRequest (options.ts) is this plus the connection's user and
 * upgrade request.
 */
export interface UploadAnnouncement {
  /** The sanitised name it will be stored under (before any ` (1)` suffix). */
  filename: string;
  /** The name the client sent, unsanitised: for display and logs only. */
  requestedName: string;
  /** Declared size in bytes. */
  size: number;
  /** MIME type, when the client sent one (protocol v2 `ext.mime`). */
  mime?: string;
  /** Whatever the page passed along. */
  parameters: unknown;
  /** The sanitised folder it will land in (STOR `path`, e.g. `album/2024`), when it came from a folder. */
  path?: string;
}

/** What a v2 STOR does about resuming: starts a resumable upload, resumes one; absent under v1. */
export type ResumeKind = 'fresh' | 'resumed';

/** The server's answer to a STOR: go ahead (into a sub-folder), or the refusal to send. */
export type Admission =
  { ok: true; folder?: string } | { ok: false; code: number; message: string; retryAfter?: number };

/** Hooks a session reports through; the server turns them into events, limits, logs and metrics. */
export interface SessionEvents {
  stored(file: StoredFile): void;
  failed(info: { code: number; message: string; filename?: string }): void;
  /** The upload was deleted: by an ABOR (`aborted`: it ends now), or by a refusal whose close follows. */
  discarded?(aborted: boolean): void;
  /** Asked for every STOR before storage is touched. */
  admit?(upload: UploadAnnouncement, resume?: ResumeKind): Admission | Promise<Admission>;
  /** AUTH was accepted, for this user (the hook's `user`, else the login). */
  authenticated?(user: string | undefined): void;
  /** Asked before an AUTH's credentials are checked: a refusal (429 while throttled) is answered instead. */
  authAttempt?(login: string | undefined): RefusalDetail | undefined;
  /** An AUTH's credentials were checked: accepted, refused, or undefined when the hook could not decide. */
  authResult?(login: string | undefined, accepted: boolean | undefined): void;
  /** The client was already let in at the HTTP upgrade: no AUTH needed. */
  readonly preAuthenticated?: boolean;
}

/** What a session shares with the other sessions of its server. */
export interface SessionServices {
  /** Where files go (wrapped so that a shutdown can wait for its operations). */
  store: UploadStore;
  /** The server's records of committed uploads and of its sweeps. */
  records: UploadRecords;
  /** Which connection holds which resumable upload, for a takeover by a newer connection. */
  holders: UploadHolders;
  /** The byte credits of the uploads being received (protocol v2 flow control in bytes); none: no credit. */
  credits?: CreditBudget;
}
