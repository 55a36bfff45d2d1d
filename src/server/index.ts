export { createUploadServer, UploadServer, type UploadServerEvents } from './upload-server.ts';
export type {
  UploadServerOptions,
  Authenticate,
  AuthorizeUpgrade,
  AccessDecision,
  Accept,
  AcceptDecision,
  FileRequest,
  Credentials,
  Naming,
} from './options.ts';
export type { StoredFile } from './session-events.ts';
export { FileStore, type FileStoreOptions } from './stores/file-store.ts';
export type { UploadStore, PartialUpload, CompletedUpload } from './stores/store.ts';
export { sanitizeFilename } from './naming.ts';
export { tokenAccess, passwordFileAccess, hashPassword } from './access.ts';
export { createLogger } from './logging.ts';
