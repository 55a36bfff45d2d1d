/**
 * What each queue event means for the element, as data: the element event to dispatch (with its detail), the
 * sentence for the live region, a refused file to list. Pure, so that the element's event vocabulary is in
 * one place and testable without rendering; the element applies the result.
 */
import type { UploadQueueEventMap } from '../core/index.ts';
import type { WsFileUploadEventMap } from './events.ts';
import type { FolderRefused } from './folder-entries.ts';
import { errorMessage, fill, type WsFileUploadI18n } from './i18n.ts';

/** An element event to dispatch. */
export type ElementEvent = {
  [K in keyof WsFileUploadEventMap]: { type: K; detail: WsFileUploadEventMap[K]['detail'] };
}[keyof WsFileUploadEventMap];

/** What the element does for one queue event; every field is optional. */
export interface Reaction {
  /** Dispatched on the element. */
  emit?: ElementEvent;
  /** Said in the polite live region (batched per render). */
  announce?: string;
  /** A refused file and why, listed under the drop zone. */
  rejection?: { name: string; message: string };
}

/**
 * @param event - a queue event
 * @param t - the element's strings
 * @param locale - for plural forms
 * @returns what the element does for it
 */
export function reactionTo(event: CustomEvent, t: WsFileUploadI18n, locale?: string): Reaction {
  switch (event.type as keyof UploadQueueEventMap) {
    case 'add': {
      const { items } = event.detail as UploadQueueEventMap['add']['detail'];
      return { announce: fill(t.announce.added, { count: items.length }, locale) };
    }
    case 'reject': {
      const { file, reason } = event.detail as UploadQueueEventMap['reject']['detail'];
      const message = t.error[reason];
      return {
        rejection: { name: file.name, message },
        announce: fill(t.announce.rejected, { name: file.name, reason: message }),
        emit: { type: 'file-rejected', detail: { file, reason, message } },
      };
    }
    case 'status': {
      const { item } = event.detail as UploadQueueEventMap['status']['detail'];
      return item.status === 'connecting'
        ? { announce: fill(t.announce.started, { name: item.file.name }) }
        : {};
    }
    case 'progress':
    case 'success': {
      const { item, progress } = event.detail as UploadQueueEventMap['progress']['detail'];
      const type = event.type as 'progress' | 'success';
      return {
        ...(type === 'success' ? { announce: fill(t.announce.done, { name: item.file.name }) } : {}),
        emit: { type, detail: { ...progress, file: item.file } },
      };
    }
    case 'error': {
      const { item, error } = event.detail as UploadQueueEventMap['error']['detail'];
      const message = errorMessage(t, error);
      return {
        announce: fill(t.announce.failed, { name: item.file.name, reason: message }),
        emit: { type: 'error', detail: { file: item.file, error, message } },
      };
    }
    case 'warning': {
      const { item, code, message } = event.detail as UploadQueueEventMap['warning']['detail'];
      return { emit: { type: 'warning', detail: { file: item.file, code, message } } };
    }
    case 'cancel': {
      const { item } = event.detail as UploadQueueEventMap['cancel']['detail'];
      return { emit: { type: 'cancel', detail: { file: item.file } } };
    }
    case 'pause':
    case 'resume': {
      const { item } = event.detail as UploadQueueEventMap['pause']['detail'];
      const type = event.type as 'pause' | 'resume';
      const text = type === 'pause' ? t.announce.paused : t.announce.resumed;
      return { announce: fill(text, { name: item.file.name }), emit: { type, detail: { file: item.file } } };
    }
    case 'complete': {
      const detail = event.detail as UploadQueueEventMap['complete']['detail'];
      return {
        announce: fill(t.announce.allDone, { done: detail.succeeded, count: detail.items.length }, locale),
        emit: { type: 'complete', detail },
      };
    }
    default:
      return {};
  }
}

/**
 * A dropped folder that added nothing: listed with its name, announced, and `file-rejected` (with `file`
 * null and the `folder`), as a refused file would be.
 *
 * @param refused - the folder, why, and the bound it met
 * @param t - the element's strings
 * @returns what the element does for it
 */
export function folderRefusalReaction({ folder, reason, max }: FolderRefused, t: WsFileUploadI18n): Reaction {
  const message = fill(t.folderRefused[reason], { max });
  return {
    rejection: { name: folder, message },
    announce: fill(t.announce.rejected, { name: folder, reason: message }),
    emit: { type: 'file-rejected', detail: { file: null, folder, reason, max, message } },
  };
}
