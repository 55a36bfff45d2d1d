/**
 * The events of `<ws-file-upload>`: the `detail` of each, the event map, and the typed listener overloads the
 * element gets by declaration merging (the core's {@link TypedListener} type, not a copy of it). Types only.
 */
import type {
  ProgressDetail,
  RejectionReason,
  UploadError,
  UploadItem,
  WarningDetail,
} from '../core/index.ts';
import type { FolderRefusal } from './folder-entries.ts';

/** The `detail` of `progress` and `success`: the file and the 2012 library's figures. */
export type WsFileUploadProgressDetail = ProgressDetail & {
  /** The file. */
  file: File;
};

/** The `detail` of `error`. */
export interface WsFileUploadErrorDetail {
  /** The file that failed. */
  file: File;
  /** Why; branch on `error.code` (stable camelCase), `error.status` holds the server's code. */
  error: UploadError;
  /** The i18n message shown for it. */
  message: string;
}

/** The `detail` of `warning`: the file goes on without the integrity `checksum` asked for. */
export interface WsFileUploadWarningDetail {
  /** The file. */
  file: File;
  /** `integrityUnavailable` (no WebCrypto in this context) or `integrityNotGranted` (the server checks no blocks). */
  code: WarningDetail['code'];
  /** A sentence for developers (English; not shown in the element). */
  message: string;
}

/** The `detail` of `file-rejected` for a refused file. */
export interface WsFileUploadFileRejectDetail {
  /** The refused file. */
  file: File;
  /** Not a folder's refusal. */
  folder?: undefined;
  /** Which restriction refused it (also the i18n key under `error`). */
  reason: RejectionReason;
  /** The i18n message shown for it. */
  message: string;
}

/** The `detail` of `file-rejected` for a dropped folder that added nothing (none of its files are added). */
export interface WsFileUploadFolderRejectDetail {
  /** No one file: the whole folder was refused. */
  file: null;
  /** The dropped folder's name (the first one, when several were dropped together). */
  folder: string;
  /** Why (also the i18n key under `folderRefused`). */
  reason: FolderRefusal;
  /** The bound met: `max-folder-files` for `folderTooLarge`, `max-folder-depth` for `folderTooDeep`, else 0. */
  max: number;
  /** The i18n message shown for it. */
  message: string;
}

/** The `detail` of `file-rejected`: a file, or (`file` null, `folder` set) a dropped folder. */
export type WsFileUploadRejectDetail = WsFileUploadFileRejectDetail | WsFileUploadFolderRejectDetail;

/** The `detail` of `cancel` (and of `pause` and `resume`): the file concerned. */
export interface WsFileUploadFileDetail {
  /** The file. */
  file: File;
}

/** The `detail` of `cancel`. */
export type WsFileUploadCancelDetail = WsFileUploadFileDetail;

/** The `detail` of `complete`. */
export interface WsFileUploadCompleteDetail {
  /** Every item when the queue went idle. */
  items: readonly UploadItem[];
  /** How many are uploaded. */
  succeeded: number;
  /** How many failed. */
  failed: number;
}

/**
 * The events of `<ws-file-upload>`. Use it for typed listeners; it is deliberately not merged into the global
 * `HTMLElementEventMap`, where lib.dom already types `progress` as a `ProgressEvent`.
 */
export interface WsFileUploadEventMap {
  progress: CustomEvent<WsFileUploadProgressDetail>;
  success: CustomEvent<WsFileUploadProgressDetail>;
  error: CustomEvent<WsFileUploadErrorDetail>;
  warning: CustomEvent<WsFileUploadWarningDetail>;
  'file-rejected': CustomEvent<WsFileUploadRejectDetail>;
  cancel: CustomEvent<WsFileUploadCancelDetail>;
  pause: CustomEvent<WsFileUploadFileDetail>;
  resume: CustomEvent<WsFileUploadFileDetail>;
  complete: CustomEvent<WsFileUploadCompleteDetail>;
}

/** The events that stay on the host (no bubbling): they concern one file, and a page listens on the element. */
export const HOST_ONLY_EVENTS: ReadonlySet<keyof WsFileUploadEventMap> = new Set([
  'error',
  'warning',
  'cancel',
  'pause',
  'resume',
]);
