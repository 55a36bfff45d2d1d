/**
 * The whole queue at a glance, shown above the list when it holds several files: the summary line (files
 * done of all, percentage), one progress bar over every byte, and the bytes acknowledged of all with the
 * speed and time left while files are sent; and the files the last pick or drop refused. Pure rendering over
 * the queue's running totals.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { styleMap } from 'lit/directives/style-map.js';
import type { QueueProgress } from '../core/index.ts';
import { formatDuration, formatPercentage, formatSize } from './format.ts';
import { fill, type WsFileUploadI18n } from './i18n.ts';

/**
 * @param progress - the queue's figures
 * @param count - how many files the list holds
 * @param t - the element's strings
 * @param locale - for numbers and plural forms
 * @returns the summary line, the queue's bar and its details
 */
export function renderQueueSummary(
  progress: QueueProgress,
  count: number,
  t: WsFileUploadI18n,
  locale: string | undefined,
): TemplateResult {
  const percentage = Math.floor(progress.percentage);
  const units = t.units.size;
  const sending = progress.speed > 0 && progress.loaded < progress.total;
  return html`<div part="summary">
      ${fill(
        t.summary,
        { done: progress.counts.complete, count, percentage: formatPercentage(percentage, locale) },
        locale,
      )}
    </div>
    <div
      part="queue-progress"
      role="progressbar"
      aria-label=${t.queueProgress}
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${percentage}
    >
      <div
        part="queue-progress-indicator"
        style=${styleMap({ transform: `scaleX(${percentage / 100})` })}
      ></div>
    </div>
    <div part="queue-details">
      ${fill(t.queueDetails, {
        loaded: formatSize(progress.loaded, units, locale),
        total: formatSize(progress.total, units, locale),
      })}
      ${
        sending
          ? html` · ${fill(t.speed, { speed: formatSize(progress.speed, units, locale) })} ·
            ${fill(t.remaining, { time: formatDuration(progress.remainingTime) })}`
          : nothing
      }
    </div>`;
}
