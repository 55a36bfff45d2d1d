/**
 * The files the last pick or drop refused, and why: a list above the queue. In the element's entry module
 * (not with the list's code, which loads later): a refusal can come before any file was queued.
 */
import { html, nothing, type TemplateResult } from 'lit';

/**
 * The list of refused files and why, or nothing when there is none.
 *
 * @param rejections - the files refused by the last pick or drop
 * @returns the list
 */
export function renderRejections(
  rejections: readonly { name: string; message: string }[],
): TemplateResult | typeof nothing {
  if (rejections.length === 0) return nothing;
  return html`<ul part="rejections">
    ${rejections.map((rejection) => html`<li part="rejection">${rejection.name}: ${rejection.message}</li>`)}
  </ul>`;
}
