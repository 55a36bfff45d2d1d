// Runs the real browser core in Node: ws's WebSocket stands in for the browser's (Node 20 has Blob, File,
// EventTarget and CustomEvent, but no global WebSocket). Test-only use of ws.
import WebSocket from 'ws';
import {
  WebSocketFileTransfer,
  type ProgressDetail,
  type UploadError,
  type WebSocketConstructor,
  type WebSocketFileTransferOptions,
} from '../../src/core/index.ts';

/** Bytes of data frames sent by every socket made through {@link countingWebSocket}. */
export interface SendCounter {
  dataBytes: number;
  textFrames: string[];
  binaryFrames: number;
}

/**
 * A WebSocket constructor backed by ws that counts what the client sends.
 *
 * @param counter - filled in as frames go out
 * @returns a constructor for the transfer's `WebSocket` option
 */
export function countingWebSocket(counter: SendCounter): WebSocketConstructor {
  class CountingWebSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') {
        if (/^(AUTH|STOR|FIN|ABOR|SUM|BLK)\b/.test(data)) counter.textFrames.push(data);
        else counter.dataBytes += Buffer.byteLength(data, 'base64');
      } else {
        counter.binaryFrames += 1;
        counter.dataBytes += (data as ArrayBuffer).byteLength;
      }
      (super.send as (...args: unknown[]) => void)(data, ...rest);
    }
  }
  return CountingWebSocket as unknown as WebSocketConstructor;
}

/** How an upload ended. */
export interface Outcome {
  type: 'success' | 'error' | 'abort';
  error?: UploadError;
  detail?: ProgressDetail;
  progress: ProgressDetail[];
  counter: SendCounter;
}

/**
 * Runs a transfer to its end, bounded.
 *
 * @param options - transfer options (WebSocket defaults to a counting ws)
 * @param hooks - `onSuccess` runs synchronously inside the success event
 * @returns the outcome
 */
export async function runTransfer(
  options: Partial<WebSocketFileTransferOptions> & Pick<WebSocketFileTransferOptions, 'url' | 'file'>,
  hooks: {
    onSuccess?: (detail: ProgressDetail) => void;
    onProgress?: (detail: ProgressDetail, transfer: WebSocketFileTransfer) => void;
    timeout?: number;
    login?: string;
  } = {},
): Promise<Outcome & { transfer: WebSocketFileTransfer }> {
  const counter: SendCounter = { dataBytes: 0, textFrames: [], binaryFrames: 0 };
  const transfer = new WebSocketFileTransfer({
    resumeStore: null,
    WebSocket: countingWebSocket(counter),
    ...options,
  });
  const progress: ProgressDetail[] = [];
  transfer.addEventListener('progress', (event) => {
    progress.push(event.detail);
    hooks.onProgress?.(event.detail, transfer);
  });
  const timeout = hooks.timeout ?? 30_000;
  const outcome = await new Promise<Outcome>((resolve, reject) => {
    const timer = setTimeout(() => {
      transfer.abort();
      reject(new Error(`transfer did not end within ${timeout} ms (state ${transfer.state})`));
    }, timeout);
    transfer.addEventListener('success', (event) => {
      hooks.onSuccess?.(event.detail);
      clearTimeout(timer);
      resolve({ type: 'success', detail: event.detail, progress, counter });
    });
    transfer.addEventListener('error', (event) => {
      clearTimeout(timer);
      resolve({ type: 'error', error: event.detail.error, progress, counter });
    });
    transfer.addEventListener('abort', (event) => {
      clearTimeout(timer);
      resolve({ type: 'abort', detail: event.detail, progress, counter });
    });
    transfer.start(hooks.login);
  });
  return { ...outcome, transfer };
}
