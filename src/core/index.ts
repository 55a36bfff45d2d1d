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
