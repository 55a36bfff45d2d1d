/**
 * Per-file data for a queue: the page's `prepare(file, item)` hook, asked before each file starts, gives that
 * file's `parameters` and/or token, or refuses it with a message; and the token provider, asked on every
 * connection and again, with `refresh: true`, after the server answered 401. This module owns calling them
 * and turning what they return (or throw) into transfer options or an error; the queue owns when.
 */
import { UploadError } from './errors.ts';
import type { UploadItem } from './queue-items.ts';
import type { WebSocketFileTransferOptions } from './options.ts';
import { Status } from '../protocol/index.ts';

/** What `prepare` may return: per-file data (each optional), a refusal, or nothing (send as configured). */
export type PrepareResult =
  { parameters?: unknown; token?: string; reject?: undefined } | { reject: string } | void | undefined;

/** The queue's `prepare` hook: may be async; a throw or a rejected promise refuses the file too. */
export type PrepareHook = (file: File, item: UploadItem) => PrepareResult | Promise<PrepareResult>;

/** What a token provider is told. */
export interface TokenRequest {
  /** The file about to connect. */
  file: File;
  /** Its queue item. */
  item: UploadItem;
  /** True after the server refused the last token with 401: a cached token will not do. */
  refresh: boolean;
}

/** The queue's token provider (`auth: { token: provider }`): may be async. */
export type QueueTokenProvider = (request: TokenRequest) => string | Promise<string>;

/** The transfer options `prepare` decided, or the error that ends the item. */
export type Prepared =
  { ok: true; overrides: Partial<WebSocketFileTransferOptions> } | { ok: false; error: UploadError };

/**
 * Asks `prepare` about one file.
 *
 * @param hook - the page's hook, or undefined
 * @param item - the item about to start
 * @returns the per-file options, or a `prepareRefused` error with the hook's message
 */
export async function runPrepare(hook: PrepareHook | undefined, item: UploadItem): Promise<Prepared> {
  if (!hook) return { ok: true, overrides: {} };
  let result: PrepareResult;
  try {
    result = await hook(item.file, item);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    return { ok: false, error: new UploadError('prepareRefused', message, { cause }) };
  }
  if (result === undefined || result === null) return { ok: true, overrides: {} };
  if (typeof result !== 'object') {
    const message = `prepare() must return an object or nothing; it returned ${typeof result}.`;
    return { ok: false, error: new UploadError('prepareRefused', message) };
  }
  if (typeof result.reject === 'string') {
    return { ok: false, error: new UploadError('prepareRefused', result.reject) };
  }
  const { parameters, token } = result as { parameters?: unknown; token?: unknown };
  if (token !== undefined && (typeof token !== 'string' || token === '')) {
    const message = 'prepare() returned a token that is not a non-empty string.';
    return { ok: false, error: new UploadError('prepareRefused', message) };
  }
  return {
    ok: true,
    overrides: {
      ...(parameters !== undefined ? { parameters } : {}),
      ...(token !== undefined ? { token } : {}),
    },
  };
}

/**
 * Whether a failure is the server refusing the credentials (401 on AUTH or STOR): worth one retry with a
 * fresh token.
 *
 * @param error - why the transfer failed
 * @returns true for a 401
 */
export function isUnauthorized(error: UploadError): boolean {
  return (
    (error.code === 'authRejected' || error.code === 'serverRefused') && error.status === Status.unauthorized
  );
}

/**
 * The transfer's `token` for one item: the queue's provider, asked on every connection (a reconnection
 * included); the first ask after a 401 says `refresh`.
 *
 * @param provider - the queue's token provider
 * @param item - the item whose transfer connects
 * @param refreshFirst - whether the server refused the item's last token with 401
 * @returns the transfer's token provider
 */
export function tokenSource(
  provider: QueueTokenProvider,
  item: UploadItem,
  refreshFirst: boolean,
): () => string | Promise<string> {
  let refresh = refreshFirst;
  return () => {
    const request = { file: item.file, item, refresh };
    refresh = false;
    return provider(request);
  };
}
