/**
 * One row of the file list as a template: name, size, the buttons that fit the item's status (pause only
 * where the upload can resume: never under protocol v1), the progress
 * bar and the status line. Pure rendering over an item and a {@link RowContext}; the list window (which rows
 * exist) is file-list-controller.ts, the actions are the element's. Extra row content (a preview, a folder
 * path) plugs in through {@link RowContext.extras}, rendered after the size.
 */
import { html, nothing, svg, type TemplateResult } from 'lit';
import { ifDefined } from 'lit/directives/if-defined.js';
import { styleMap } from 'lit/directives/style-map.js';
import type { UploadItem, UploadStatus } from '../core/index.ts';
import { formatDuration, formatSize } from './format.ts';
import { errorMessage, fill, type WsFileUploadI18n } from './i18n.ts';

/** What a row's buttons do, each for the row's file. */
export interface RowActions {
  cancel(file: File): void;
  retry(file: File): void;
  remove(file: File): void;
  pause(file: File): void;
  resume(file: File): void;
}

/** Renders extra content for a row, or `nothing`. */
export type RowExtra = (item: UploadItem) => TemplateResult | typeof nothing;

/** Everything a row needs besides its item; built once per render, shared by every row. */
export interface RowContext {
  strings: WsFileUploadI18n;
  /** The `lang` of the nearest ancestor that has one. */
  locale: string | undefined;
  /** Whether buttons are disabled (the element's `disabled`, or a disabled fieldset). */
  disabled: boolean;
  actions: RowActions;
  /** Extra content, in order, after the file's size. */
  extras: readonly RowExtra[];
}

type ButtonKind = 'pause' | 'resume' | 'cancel' | 'retry' | 'remove';

const ICONS: Record<ButtonKind, TemplateResult> = {
  pause: svg`<path d="M5.5 3v10M10.5 3v10" />`,
  resume: svg`<path d="M5 3l8 5-8 5z" />`,
  cancel: svg`<path d="M4 4l8 8M12 4l-8 8" />`,
  retry: svg`<path d="M13 8a5 5 0 1 1-1.5-3.5M13 2v3h-3" />`,
  remove: svg`<path d="M3 4h10M6 4V2.5h4V4M4.5 4l.7 9.5h5.6l.7-9.5" />`,
};

/** Statuses with a cancel button (and no remove button): the file may still be sent. */
const CANCELLABLE = new Set<UploadStatus>(['queued', 'connecting', 'sending', 'retrying', 'paused']);

/**
 * Renders one row.
 *
 * @param context - shared by every row of a render
 * @param item - the row's item
 * @param position - its 1-based position in the whole list (`aria-posinset`)
 * @param setSize - how many items the list holds (`aria-setsize`)
 * @returns the `<li>`
 */
export function renderRow(
  context: RowContext,
  item: UploadItem,
  position: number,
  setSize: number,
): TemplateResult {
  const { strings: t, locale, actions } = context;
  const file = item.file;
  const name = file.name;
  const indeterminate = item.status === 'connecting';
  const percentage = item.status === 'complete' ? 100 : Math.floor(item.percentage);
  const status = item.status === 'failed' && item.error ? errorMessage(t, item.error) : t.status[item.status];
  const cancellable = CANCELLABLE.has(item.status);
  return html`<li part="file file-${item.status}" aria-posinset=${position} aria-setsize=${setSize}>
    <span part="file-name"
      >${item.path ? html`<span part="file-path">${item.path}/</span>` : nothing}${name}</span
    >
    <span part="file-size">${formatSize(item.total, t.units.size, locale)}</span>
    ${context.extras.map((extra) => extra(item))}
    <span part="actions">
      ${
        // Pause and resume share one slot, so that the same <button> turns from one into the other and a
        // keyboard user who paused keeps focus on it, ready to resume.
        item.pausable
          ? renderButton(context, 'pause', name, () => actions.pause(file))
          : item.status === 'paused'
            ? renderButton(context, 'resume', name, () => actions.resume(file))
            : nothing
      }
      ${cancellable ? renderButton(context, 'cancel', name, () => actions.cancel(file)) : nothing}
      ${
        item.status === 'failed' || item.status === 'cancelled'
          ? renderButton(context, 'retry', name, () => actions.retry(file))
          : nothing
      }
      ${cancellable ? nothing : renderButton(context, 'remove', name, () => actions.remove(file))}
    </span>
    <div
      part="progress"
      role="progressbar"
      aria-label=${name}
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${ifDefined(indeterminate ? undefined : percentage)}
      ?data-indeterminate=${indeterminate}
    >
      <div part="progress-indicator" style=${styleMap({ transform: `scaleX(${percentage / 100})` })}></div>
    </div>
    <div part="status-line">
      <span part="status">${status}</span>
      ${
        item.status === 'sending'
          ? html`<span part="details"
              >${fill(t.speed, { speed: formatSize(item.speed, t.units.size, locale) })} ·
              ${fill(t.remaining, { time: formatDuration(item.remainingTime) })}</span
            >`
          : nothing
      }
    </div>
  </li>`;
}

function renderButton(
  context: RowContext,
  kind: ButtonKind,
  name: string,
  action: () => void,
): TemplateResult {
  const label = fill(context.strings[kind], { name });
  return html`<button
    part="${kind}-button"
    type="button"
    aria-label=${label}
    title=${label}
    ?disabled=${context.disabled}
    @click=${action}
  >
    <svg viewBox="0 0 16 16" aria-hidden="true">${ICONS[kind]}</svg>
  </button>`;
}
