export { WebSocketFileTransfer, type PauseRefusal, type TransferState } from './web-socket-file-transfer.ts';
export {
  DEFAULT_ANSWER_TIMEOUT,
  DEFAULT_AUTH_TIMEOUT,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  type TokenProvider,
  type WebSocketConstructor,
  type WebSocketFileTransferOptions,
} from './options.ts';
export { UploadError, type UploadErrorCode, type UploadErrorInit } from './errors.ts';
export type {
  AbortDetail,
  CancelDetail,
  CloseDetail,
  ErrorDetail,
  OpenDetail,
  ProgressDetail,
  RetryingDetail,
  WarningDetail,
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
export {
  DEFAULT_RETRY_DELAYS,
  RETRY_JITTER,
  RETRYABLE_STATUS,
  retryDelay,
  shouldRetry,
  type RetryCause,
  type RetryDecision,
  type RetryPolicy,
  type RetrySituation,
} from './retry.ts';
export { TypedEventTarget, type TypedListener } from './typed-event-target.ts';
export { browserEnvironment, type TransferEnvironment } from './environment.ts';
export { UploadQueue } from './upload-queue.ts';
export {
  acceptsFile,
  UPLOAD_QUEUE_EVENTS,
  type AddDetail,
  type CompleteDetail,
  type FileInFolder,
  type ItemDetail,
  type ItemErrorDetail,
  type ItemProgressDetail,
  type ItemWarningDetail,
  type PauseRefused,
  type PauseResult,
  type QueueProgress,
  type RejectDetail,
  type Rejection,
  type RejectionReason,
  type UploadAuth,
  type UploadItem,
  type UploadQueueEventMap,
  type UploadStatus,
} from './queue-items.ts';
export type { QueueTransferOptions, UploadQueueOptions } from './queue-options.ts';
export type { PrepareHook, PrepareResult, QueueTokenProvider, TokenRequest } from './queue-prepare.ts';
