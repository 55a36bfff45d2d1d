// The public entry point: importing it registers <ws-file-upload>. The class module has no side effects, so
// that a page can register the class under another name (or extend it) without this define.
import { WsFileUpload } from './ws-file-upload.component.ts';

export {
  WsFileUpload,
  type WsFileUploadCancelDetail,
  type WsFileUploadCompleteDetail,
  type WsFileUploadErrorDetail,
  type WsFileUploadFileDetail,
  type WsFileUploadFileRejectDetail,
  type WsFileUploadFolderRejectDetail,
  type WsFileUploadEventMap,
  type WsFileUploadProgressDetail,
  type WsFileUploadRejectDetail,
} from './ws-file-upload.component.ts';
export type { WsFileUploadWarningDetail } from './events.ts';
export { DEFAULT_I18N, mergeI18n, type WsFileUploadI18n, type WsFileUploadI18nOverrides } from './i18n.ts';
export type {
  PauseRefusal,
  PauseRefused,
  PauseResult,
  RejectionReason,
  UploadAuth,
  UploadError,
  UploadErrorCode,
  UploadItem,
  UploadStatus,
} from '../core/index.ts';

// Guarded: a page that loads both the npm build and the CDN bundle (or two copies of either) keeps the
// first definition instead of throwing "name already used".
if (typeof customElements !== 'undefined' && !customElements.get('ws-file-upload')) {
  customElements.define('ws-file-upload', WsFileUpload);
}

declare global {
  interface HTMLElementTagNameMap {
    'ws-file-upload': WsFileUpload;
  }
}
