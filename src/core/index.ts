export { WebSocketFileTransfer, type TransferState } from './web-socket-file-transfer.ts';
export {
  DEFAULT_ANSWER_TIMEOUT,
  DEFAULT_AUTH_TIMEOUT,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  type WebSocketConstructor,
  type WebSocketFileTransferOptions,
} from './options.ts';
export { UploadError, type UploadErrorCode, type UploadErrorInit } from './errors.ts';
export type {
  AbortDetail,
  CloseDetail,
  ErrorDetail,
  OpenDetail,
  ProgressDetail,
  WebSocketFileTransferEventMap,
} from './events.ts';
export { DEFAULT_V2_CHUNK_SIZE, DEFAULT_WINDOW, MAX_WINDOW } from './options.ts';
export {
  defaultResumeStore,
  fingerprint,
  LocalResumeStore,
  NullResumeStore,
  type ResumeRecord,
  type ResumeStore,
} from './resume-store.ts';
export { DEFAULT_RETRY_DELAYS, RETRY_JITTER, retryDelay } from './retry.ts';
