/**
 * The element's strings: every visible or announced text, the English defaults, the deep merge of a
 * translation over them, and filling `{placeholders}` — with plural forms chosen by `Intl.PluralRules`.
 */
import type {
  PauseRefusal,
  RejectionReason,
  UploadError,
  UploadErrorCode,
  UploadStatus,
} from '../core/index.ts';
import type { FolderRefusal } from './folder-entries.ts';

/**
 * A text that depends on a count: one template per plural category of the locale (`Intl.PluralRules`:
 * `zero`, `one`, `two`, `few`, `many`, `other`), `other` required. A plain string serves every count.
 */
export type Plural = string | ({ other: string } & Partial<Record<Intl.LDMLPluralRule, string>>);

/**
 * Every visible or announced string of `<ws-file-upload>`. Templates take `{placeholders}`; a {@link Plural}
 * picks its form by the count it names. Assign a partial object to the element's `i18n` property: it is
 * deep-merged over {@link DEFAULT_I18N}, so a translation may override one key and keep the rest.
 */
export interface WsFileUploadI18n {
  /** The drop zone's label: `one` without `multiple`, `many` with it. */
  dropFiles: { one: string; many: string };
  /** The picker button's text. */
  addFiles: { one: string; many: string };
  /** The button that starts queued files when `auto` is off. */
  upload: string;
  /** Per-file buttons; `{name}` is the file name (the buttons' accessible names). */
  cancel: string;
  retry: string;
  remove: string;
  pause: string;
  resume: string;
  /** Why a file cannot pause (the `message` of a refusal from `pause()`), per reason. */
  pauseRefused: Record<PauseRefusal, string>;
  /** The file list's accessible name. */
  fileList: string;
  /** Status text per {@link UploadStatus}. */
  status: Record<UploadStatus, string>;
  /** After a dropped folder's name: why it added nothing (`{max}`: `max-folder-files`, `max-folder-depth`). */
  folderRefused: Record<FolderRefusal, string>;
  /** Messages per rejection reason and per {@link UploadErrorCode}; `unknown` for anything else. */
  error: Record<RejectionReason | UploadErrorCode | 'unknown', string>;
  /** `{speed}` per second and `{time}` left, shown while a file is sent. */
  speed: string;
  remaining: string;
  /** The aggregate line: `{done}` of `{count}` files, `{percentage}` (plural by `{count}`). */
  summary: Plural;
  /** The queue bar's accessible name. */
  queueProgress: string;
  /** Under the queue bar: `{loaded}` acknowledged of `{total}` bytes (speed and time left follow while sending). */
  queueDetails: string;
  /** Size units, smallest first (decimal: 1 kB = 1000 B). */
  units: { size: string[] };
  /** Form validation messages: no file (with `required`), uploads not finished, uploads failed. */
  validation: { required: string; pending: string; failed: string };
  /** Live-region announcements of milestones. */
  announce: {
    /** Plural by `{count}`. */
    added: Plural;
    rejected: string;
    started: string;
    done: string;
    failed: string;
    paused: string;
    resumed: string;
    /** Plural by `{count}`. */
    allDone: Plural;
  };
}

/** A partial {@link WsFileUploadI18n}, at any depth. */
export type WsFileUploadI18nOverrides = {
  [K in keyof WsFileUploadI18n]?: WsFileUploadI18n[K] extends string | string[]
    ? WsFileUploadI18n[K]
    : WsFileUploadI18n[K] extends Plural
      ? Plural | Partial<Exclude<WsFileUploadI18n[K], string>>
      : Partial<WsFileUploadI18n[K]>;
};

/** The English strings. */
export const DEFAULT_I18N: WsFileUploadI18n = {
  dropFiles: { one: 'Drop a file here', many: 'Drop files here' },
  addFiles: { one: 'Choose file…', many: 'Choose files…' },
  upload: 'Upload',
  cancel: 'Cancel {name}',
  retry: 'Retry {name}',
  remove: 'Remove {name}',
  pause: 'Pause {name}',
  resume: 'Resume {name}',
  pauseRefused: {
    notResumable: 'This upload cannot pause: the server cannot resume it. Cancel it instead.',
    notYetAgreed: 'This upload cannot pause yet; try again in a moment.',
    notRunning: 'Only a running upload can pause.',
  },
  fileList: 'Files',
  status: {
    queued: 'Waiting',
    connecting: 'Connecting…',
    sending: 'Uploading',
    retrying: 'Reconnecting…',
    paused: 'Paused',
    complete: 'Uploaded',
    failed: 'Failed',
    cancelled: 'Cancelled',
  },
  folderRefused: {
    folderTooLarge: 'more than {max} files in this folder; none were added.',
    folderTooDeep: 'folders nested more than {max} deep; none of its files were added.',
    folderUnreadable: 'this folder could not be read; none of its files were added.',
  },
  error: {
    fileTypeNotAccepted: 'This file type is not accepted.',
    fileTooBig: 'This file is too big.',
    tooManyFiles: 'Too many files.',
    connectionFailed: 'Cannot reach the upload server.',
    connectionClosed: 'The connection was lost.',
    authTimeout: 'The server did not answer the login.',
    answerTimeout: 'The server stopped answering.',
    authRejected: 'The server refused the login.',
    serverRefused: 'The server refused the file.',
    badAnswer: 'The server sent an unexpected answer.',
    checksumMismatch: 'The file was damaged on the way; it was not stored.',
    readFailed: 'The file could not be read.',
    aborted: 'The upload was stopped.',
    notSupported: 'This browser cannot upload here.',
    tokenUnavailable: 'Could not get a login token for the upload.',
    prepareRefused: 'This file was refused.',
    unknown: 'The upload failed.',
  },
  speed: '{speed}/s',
  remaining: '{time} left',
  summary: {
    one: '{done} of {count} file uploaded · {percentage}',
    other: '{done} of {count} files uploaded · {percentage}',
  },
  queueProgress: 'All files',
  queueDetails: '{loaded} of {total}',
  units: { size: ['B', 'kB', 'MB', 'GB', 'TB'] },
  validation: {
    required: 'Please add a file.',
    pending: 'Please wait until the files are uploaded.',
    failed: 'Some files failed to upload. Retry or remove them.',
  },
  announce: {
    added: { one: '{count} file added.', other: '{count} files added.' },
    rejected: '{name} not added: {reason}',
    started: 'Uploading {name}.',
    done: '{name} uploaded.',
    failed: '{name} failed: {reason}',
    paused: '{name} paused.',
    resumed: '{name} resumed.',
    allDone: {
      one: 'The upload finished: {done} of {count} uploaded.',
      other: 'All uploads finished: {done} of {count} uploaded.',
    },
  },
};

/**
 * Deep-merges overrides over the defaults: objects merge key by key, anything else replaces.
 *
 * @param overrides - a partial i18n object (or nothing)
 * @param base - what to merge over (default {@link DEFAULT_I18N})
 * @returns a full i18n object; `base` is left unchanged
 */
export function mergeI18n(
  overrides: WsFileUploadI18nOverrides | null | undefined,
  base: WsFileUploadI18n = DEFAULT_I18N,
): WsFileUploadI18n {
  return deepMerge(base, overrides ?? {}) as WsFileUploadI18n;
}

function deepMerge(base: unknown, patch: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(patch)) return patch === undefined ? base : patch;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) out[key] = deepMerge(base[key], value);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Building an Intl.PluralRules costs more than using one: one per locale.
const pluralRules = new Map<string, Intl.PluralRules>();

/**
 * The form of a {@link Plural} for a count.
 *
 * @param text - a plain string, or the forms by plural category
 * @param count - the number the text is about
 * @param locale - whose plural rules apply (default: the page's)
 * @returns the template for that count: its category's form, else `other`
 */
export function pluralForm(text: Plural, count: number, locale?: string): string {
  if (typeof text === 'string') return text;
  const key = locale ?? '';
  let rules = pluralRules.get(key);
  if (!rules) {
    try {
      rules = new Intl.PluralRules(locale);
    } catch {
      rules = new Intl.PluralRules(); // a `lang` that is not a valid tag: the page's rules
    }
    pluralRules.set(key, rules);
  }
  return text[rules.select(count)] ?? text.other;
}

/**
 * Fills `{placeholders}` in a template; unknown placeholders stay as they are, so a typo shows. A
 * {@link Plural} takes the form for `values.count`.
 *
 * @param template - the text, or its plural forms
 * @param values - the values by placeholder name
 * @param locale - for the plural rules
 * @returns the filled text
 */
export function fill(template: Plural, values: Record<string, string | number>, locale?: string): string {
  const count = typeof values.count === 'number' ? values.count : 0;
  return pluralForm(template, count, locale).replace(/\{(\w+)\}/g, (match, key: string) =>
    key in values ? String(values[key]) : match,
  );
}

/**
 * The i18n message for an upload error: the one under its code, else the generic one; a `prepare`
 * refusal shows the hook's message.
 *
 * @param strings - the element's strings
 * @param error - the error
 * @returns the message
 */
export function errorMessage(strings: WsFileUploadI18n, error: UploadError): string {
  // The page's own `prepare` refusal is already a message for the user, in the page's language.
  if (error.code === 'prepareRefused' && error.message) return error.message;
  const messages = strings.error as Record<string, string>;
  return messages[error.code] ?? strings.error.unknown;
}
